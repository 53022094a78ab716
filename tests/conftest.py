"""Shared fixtures: a migrated database per test, factories, signed-in clients.

The schema is built once per session by the Alembic migrations (so the migrations are tested
too) into a template SQLite file; each test gets its own copy, which keeps tests independent
and lets a live server in another thread (browser tests) share the same database.

With DATAPASS_TEST_DATABASE_URL=postgresql+psycopg://user@host:port/postgres set (the test
command's PostgreSQL pass), one PostgreSQL database is migrated per session and emptied at the
start of each test (rows deleted, sequences restarted: much faster than a database per test).
"""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from datapass import create_app
from datapass.cli import upgrade_database
from tests.factories import Factory

pytest_plugins = ["tests.browser"]

POSTGRES_URL = os.environ.get("DATAPASS_TEST_DATABASE_URL")


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


@pytest.fixture(autouse=True)
def _restore_logging():
    """An app built with production settings installs a log handler on the root logger: put the
    root logger back after each test, so that no test sees another's log lines."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def _migrate(config: dict) -> None:
    app = create_app(config)
    with app.app_context():
        upgrade_database()
        from datapass.extensions import db

        db.engine.dispose()


@pytest.fixture(scope="session")
def template_db(tmp_path_factory):
    """The migrated database: a SQLite file to copy, or the PostgreSQL database's URL."""
    var_dir = tmp_path_factory.mktemp("template")
    if POSTGRES_URL:
        from tests import postgres

        name = f"datapass_test_{uuid.uuid4().hex[:12]}"
        postgres.create_database(POSTGRES_URL, name)
        try:
            url = postgres.url_of(POSTGRES_URL, name)
            _migrate(_config(var_dir, SQLALCHEMY_DATABASE_URI=url))
            yield url
        finally:
            postgres.drop_database(POSTGRES_URL, name)
        return
    _migrate(_config(var_dir))
    yield var_dir / "datapass.sqlite3"


@pytest.fixture
def make_app(template_db, tmp_path):
    """Build an app on a fresh copy of the migrated database; extra settings as keywords."""
    apps: list[Flask] = []

    def make(**extra) -> Flask:
        var_dir = tmp_path / "var"
        var_dir.mkdir(exist_ok=True)
        if POSTGRES_URL:
            if not apps:
                from tests import postgres

                postgres.empty_database(template_db)
            extra.setdefault("SQLALCHEMY_DATABASE_URI", template_db)
        elif not (var_dir / "datapass.sqlite3").exists():
            shutil.copy(template_db, var_dir / "datapass.sqlite3")
        apps.append(create_app(_config(var_dir, **extra)))
        return apps[-1]

    yield make
    if POSTGRES_URL:
        from datapass.extensions import db

        for app in apps:  # close the pooled connections: the next test empties the database
            with app.app_context():
                db.engine.dispose()


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
