"""OAuth 2 credentials: validation issues a client bound to the authorization; consumers get
RFC 9068 JWTs with the client-credentials grant; producers verify them with the JWKS or by
introspection. Built on Authlib's authorization server and joserfc."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Load the keys once for this process, build the server, register the endpoints."""
    from flask_login import current_user

    from datapass.extensions import csrf
    from datapass.oauth import clock, credential_views, services, views
    from datapass.oauth.hashing import HMAC_KEY_EXTENSION, hmac_key_from_config
    from datapass.oauth.keys import SigningKeys
    from datapass.oauth.ratelimit import LIMITER_EXTENSION, RateLimiter
    from datapass.oauth.server import KEYS_EXTENSION, create_server

    app.extensions[HMAC_KEY_EXTENSION] = hmac_key_from_config(app.config)
    app.extensions[KEYS_EXTENSION] = SigningKeys(
        app.config["OAUTH_KEY_DIR"], app.config["OAUTH_KEY_RELOAD_INTERVAL"]
    )
    app.extensions[views.SERVER_EXTENSION] = create_server(app)
    app.extensions[LIMITER_EXTENSION] = RateLimiter(app.config["OAUTH_TOKEN_RATE_LIMIT"])
    csrf.exempt(views.bp)  # machine endpoints, authenticated by client credentials
    app.register_blueprint(views.bp)
    app.register_blueprint(credential_views.bp)
    app.jinja_env.globals.update(
        credential_for=services.credential_for,
        now_utc=clock.now,
        can_manage_credential=lambda c: services.can_manage_credential(c, current_user),
    )
