"""/healthz says the process answers; /readyz checks the database, broker and signing keys."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest
import redis

from tests.ops.conftest import free_port


def test_healthz_answers_without_touching_anything(make_app):
    # Even a database that cannot be reached leaves the process alive: liveness only.
    app = make_app(SQLALCHEMY_DATABASE_URI=f"postgresql+psycopg://x@127.0.0.1:{free_port()}/x")
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_is_ok_when_every_component_answers(client, signing_key):
    response = client.get("/readyz")
    assert response.status_code == 200, response.json
    assert response.json["checks"] == {
        "database": "ok",
        "broker": "ok",
        "signing_keys": "ok",
    }
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_names_an_unreachable_database(make_app, tmp_path):
    app = make_app(SQLALCHEMY_DATABASE_URI=f"postgresql+psycopg://x@127.0.0.1:{free_port()}/x")
    from datapass.oauth.keys import create_signing_key

    create_signing_key(Path(app.config["OAUTH_KEY_DIR"]))
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["status"] == "unavailable"
    assert response.json["failing"] == ["database"]
    assert response.json["checks"]["database"].startswith("error: OperationalError")
    assert response.json["checks"]["signing_keys"] == "ok"


def test_readyz_names_a_missing_signing_key(client):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["failing"] == ["signing_keys"]
    assert "rotate-signing-key" in response.json["checks"]["signing_keys"]


def test_readyz_names_an_unreachable_broker(make_app):
    app = make_app(BROKER_URL=f"redis://127.0.0.1:{free_port()}/0")
    from datapass.oauth.keys import create_signing_key

    create_signing_key(Path(app.config["OAUTH_KEY_DIR"]))
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["failing"] == ["broker"]
    assert response.json["checks"]["broker"].startswith("error: ConnectionError")


@pytest.fixture
def redis_url(tmp_path):
    """A real Redis on a free loopback port (Debian's redis-server, from the test command)."""
    server = shutil.which("redis-server")
    if not server:
        pytest.skip("redis-server is not installed (scripts/test.sh installs it)")
    port = free_port()
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        for _ in range(100):
            try:
                redis.Redis.from_url(url).ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(5)


def test_readyz_pings_a_real_redis_broker(make_app, redis_url):
    app = make_app(BROKER_URL=redis_url)
    from datapass.oauth.keys import create_signing_key

    create_signing_key(Path(app.config["OAUTH_KEY_DIR"]))
    response = app.test_client().get("/readyz")
    assert response.status_code == 200, response.json
    assert response.json["checks"]["broker"] == "ok"
