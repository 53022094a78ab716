"""Rate limits on sign-in, the token endpoint, introspection and the public pages: 429 with
Retry-After; counters shared by every process through Redis when configured."""

from __future__ import annotations

import base64

import pytest

from datapass.security.ratelimit import storage_url
from tests.notifications.servers import RedisServer


def _email(app, user_id: int) -> str:
    from datapass.accounts.models import User
    from datapass.extensions import db

    with app.app_context():
        return db.session.get(User, user_id).email


def assert_limited(response, *, html: bool = True) -> None:
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    if html:
        assert "Trop de requêtes" in response.get_data(as_text=True)
    else:
        assert response.json["error"] == "rate_limited"


def test_sign_in_is_limited_per_address(make_app, factory):
    app = make_app(SIGNIN_RATE_LIMIT=3)
    email = _email(app, factory.user())
    client = app.test_client()
    for _ in range(3):
        assert client.post("/login", data={"email": email}).status_code == 302
    assert_limited(client.post("/login", data={"email": email}))
    other = app.test_client().post(
        "/login", data={"email": email}, environ_base={"REMOTE_ADDR": "192.0.2.7"}
    )
    assert other.status_code == 302


def _api_client(app, factory) -> tuple[str, str]:
    from datapass.accounts.models import User
    from datapass.developers.services import create_api_client
    from datapass.extensions import db

    owner = factory.user(roles=(("developer", "api_particulier"),))
    with app.app_context():
        credential, secret = create_api_client(db.session.get(User, owner), "RL", ["read_requests"])
        db.session.commit()
        return credential.client_id, secret


def _basic(client_id: str, secret: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def test_the_token_endpoint_is_limited_per_client(make_app, factory):
    app = make_app(OAUTH_TOKEN_RATE_LIMIT=2)
    headers = _basic(*_api_client(app, factory))
    client = app.test_client()
    data = {"grant_type": "client_credentials"}
    for _ in range(2):
        assert client.post("/oauth/token", data=data, headers=headers).status_code == 200
    assert_limited(client.post("/oauth/token", data=data, headers=headers), html=False)


def test_introspection_is_limited_per_address(make_app, factory):
    app = make_app(OAUTH_INTROSPECT_RATE_LIMIT=2)
    client = app.test_client()
    for _ in range(2):
        assert client.post("/oauth/introspect", data={"token": "x"}).status_code == 401
    assert_limited(client.post("/oauth/introspect", data={"token": "x"}), html=False)


def test_public_pages_are_limited_for_anonymous_visitors_only(make_app, factory):
    app = make_app(PUBLIC_RATE_LIMIT=2)
    signed_in = app.test_client()
    email = _email(app, factory.user())
    assert signed_in.post("/login", data={"email": email}).status_code == 302
    anonymous = app.test_client()
    assert anonymous.get("/").status_code == 200
    assert anonymous.get("/catalog/api_particulier").status_code == 200
    assert_limited(anonymous.get("/"))
    assert all(signed_in.get("/").status_code == 200 for _ in range(4))


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


def test_redis_counters_are_shared_by_every_process(make_app, factory, redis_server):
    """Two apps (two gunicorn workers) on one Redis count together."""
    first = make_app(SIGNIN_RATE_LIMIT=3, RATELIMIT_STORAGE_URL=redis_server.url)
    second = make_app(SIGNIN_RATE_LIMIT=3, RATELIMIT_STORAGE_URL=redis_server.url)
    email = _email(first, factory.user())
    assert first.test_client().post("/login", data={"email": email}).status_code == 302
    assert second.test_client().post("/login", data={"email": email}).status_code == 302
    assert first.test_client().post("/login", data={"email": email}).status_code == 302
    assert_limited(second.test_client().post("/login", data={"email": email}))


def test_a_redis_outage_lets_requests_through(make_app, factory, redis_server, caplog):
    app = make_app(SIGNIN_RATE_LIMIT=1, RATELIMIT_STORAGE_URL=redis_server.url)
    email = _email(app, factory.user())
    redis_server.stop()
    for _ in range(3):
        assert app.test_client().post("/login", data={"email": email}).status_code == 302
    assert "rate limit store unavailable" in caplog.text


def test_the_store_follows_the_configuration():
    assert storage_url({"ENV_NAME": "testing", "BROKER_URL": "redis://r:6379/0"}) == "memory://"
    production = {"ENV_NAME": "production", "BROKER_URL": "redis://r:6379/0"}
    assert storage_url(production) == "redis://r:6379/0"
    explicit = {**production, "RATELIMIT_STORAGE_URL": "redis://other:6379/1"}
    assert storage_url(explicit) == "redis://other:6379/1"
    assert storage_url({"ENV_NAME": "production", "BROKER_URL": "filesystem://"}) == "memory://"


def test_large_limits_are_counted_in_batches_shared_by_every_process(redis_server):
    """Introspection's limit (tens of thousands a minute) costs a Redis round trip once in a
    hundred calls, and two processes still stop together, within a batch of the limit."""
    import redis

    from datapass.security.ratelimit import RedisRateLimiter

    now = [60.0 * 29_000_000 + 1.0]  # one second into a minute
    client = redis.Redis.from_url(redis_server.url)
    first, second = (
        RedisRateLimiter(1000, "introspect", client, clock=lambda: now[0]) for _ in range(2)
    )
    assert first.batch == 10
    answers = [(first if i % 2 else second).hit("198.51.100.1") for i in range(1200)]
    admitted = answers.count(None)
    assert 1000 <= admitted <= 1000 + 2 * first.batch
    assert set(answers) - {None} == {59}  # Retry-After: the end of the minute
    assert client.info("commandstats")["cmdstat_incrby"]["calls"] <= 1200 // 10 + 2
    now[0] += 60  # a new minute starts afresh
    assert first.hit("198.51.100.1") is None
    assert first.hit("198.51.100.2") is None  # another address has its own counter
