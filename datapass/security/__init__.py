"""Security headers on every response and rate limits on the exposed endpoints.

- A strict Content-Security-Policy: scripts and styles from this site only (no inline script,
  no style attribute), no framing, forms posting back here (or to the identity provider, for
  RP-initiated logout); the usual headers next to it; HSTS in production.
- Rate limits per client address on sign-in, introspection and the public pages, and the
  token endpoint's per-client limit, all on the shared store of datapass.security.ratelimit;
  an excess answers 429 with Retry-After.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, jsonify, render_template, request
from flask_login import current_user

from datapass.security.ratelimit import limiter

SIGN_IN_ENDPOINTS = frozenset({"accounts.oidc_login", "accounts.oidc_callback"})
PUBLIC_ENDPOINTS = frozenset(
    {"catalog.index", "catalog.show", "developers.docs", "api.openapi_json", "accounts.login"}
)


def content_security_policy(config: dict) -> str:
    form_action = "'self'"
    if config.get("OIDC_ISSUER"):  # the logout POST redirects to the provider
        parts = urlsplit(config["OIDC_ISSUER"])
        form_action += f" {parts.scheme}://{parts.netloc}"
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            f"form-action {form_action}",
            "frame-ancestors 'none'",
        )
    )


def init_app(app: Flask) -> None:
    from datapass.oauth.ratelimit import LIMITER_EXTENSION

    # Authlib logs each issued token (access_token included) at DEBUG: never below INFO.
    authlib_logger = logging.getLogger("authlib")
    if authlib_logger.level < logging.INFO:  # NOTSET (0) included: it would follow the root
        authlib_logger.setLevel(logging.INFO)

    csp = content_security_policy(app.config)
    hsts = app.config["ENV_NAME"] == "production" and app.config["HSTS_MAX_AGE"] > 0

    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", csp)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if hsts:
            headers.setdefault(
                "Strict-Transport-Security",
                f"max-age={app.config['HSTS_MAX_AGE']}; includeSubDomains",
            )
        return response

    # The token endpoint (per client) and /stats (per address) count on the shared store too.
    app.extensions[LIMITER_EXTENSION] = limiter(
        app, "oauth_token", app.config["OAUTH_TOKEN_RATE_LIMIT"]
    )
    if "STATS_RATE_LIMIT" in app.config:
        app.extensions["datapass.stats.limiter"] = limiter(
            app, "stats", app.config["STATS_RATE_LIMIT"]
        )
    limiter(app, "signin", app.config["SIGNIN_RATE_LIMIT"])
    limiter(app, "introspect", app.config["OAUTH_INTROSPECT_RATE_LIMIT"])
    limiter(app, "public", app.config["PUBLIC_RATE_LIMIT"])
    app.before_request(_rate_limit)


def _limit_for(endpoint: str | None) -> str | None:
    if endpoint in SIGN_IN_ENDPOINTS or (endpoint == "accounts.login" and request.method == "POST"):
        return "signin"
    if endpoint == "oauth.introspect":
        return "introspect"
    if endpoint in PUBLIC_ENDPOINTS and not current_user.is_authenticated:
        return "public"
    return None


def _rate_limit():
    name = _limit_for(request.endpoint)
    if name is None:
        return None
    retry_after = limiter(current_app, name, 0).hit(request.remote_addr or "unknown")
    if retry_after is None:
        return None
    if name == "introspect":
        response = jsonify(error="rate_limited", error_description="Too many requests.")
        response.status_code = 429
    else:
        message = f"Trop de requêtes : réessayez dans {retry_after} secondes."
        response = Response(render_template("error.html", status=429, message=message), 429)
    response.headers["Retry-After"] = str(retry_after)
    response.headers["Cache-Control"] = "no-store"
    return response
