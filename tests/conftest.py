"""Shared fixtures: a migrated database per test, factories, signed-in clients.

The schema is built once per session by the Alembic migrations (so the migrations are tested
too) into a template SQLite file; each test gets its own copy, which keeps tests independent
and lets a live server in another thread (browser tests) share the same database.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from datapass import create_app
from datapass.cli import upgrade_database
from tests.factories import Factory


def _config(var_dir: Path, **extra) -> dict:
    return {
        "ENV_NAME": "testing",
        "SECRET_KEY": "test-secret-key-" + "x" * 32,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{var_dir / 'datapass.sqlite3'}",
        "VAR_DIR": str(var_dir),
        "UPLOAD_DIR": str(var_dir / "uploads"),
        "WTF_CSRF_ENABLED": False,
        **extra,
    }


@pytest.fixture(scope="session")
def template_db(tmp_path_factory) -> Path:
    var_dir = tmp_path_factory.mktemp("template")
    app = create_app(_config(var_dir))
    with app.app_context():
        upgrade_database()
        from datapass.extensions import db

        db.engine.dispose()
    return var_dir / "datapass.sqlite3"


@pytest.fixture
def make_app(template_db, tmp_path):
    """Build an app on a fresh copy of the migrated database; extra settings as keywords."""

    def make(**extra) -> Flask:
        var_dir = tmp_path / "var"
        var_dir.mkdir(exist_ok=True)
        if not (var_dir / "datapass.sqlite3").exists():
            shutil.copy(template_db, var_dir / "datapass.sqlite3")
        return create_app(_config(var_dir, **extra))

    return make


@pytest.fixture
def app(make_app) -> Flask:
    app = make_app()
    yield app
    with app.app_context():
        from datapass.extensions import db

        db.engine.dispose()


@pytest.fixture
def client(app) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def factory(app) -> Factory:
    return Factory(app)


@pytest.fixture
def login_as(app):
    """A new test client signed in (through the development login) as the given user id."""

    def login(user_id: int) -> FlaskClient:
        client = app.test_client()
        with app.app_context():
            from datapass.accounts.models import User
            from datapass.extensions import db

            email = db.session.get(User, user_id).email
        response = client.post("/login", data={"email": email})
        assert response.status_code == 302, response.data
        return client

    return login
