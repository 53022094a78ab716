"""A small but real OpenID Connect provider for the sign-in tests, served on loopback.

It implements what datapass relies on, with the checks a real provider makes: discovery, JWKS
(RS256), an authorization endpoint that requires PKCE S256 and a registered redirect URI, a token
endpoint that authenticates the client, verifies the code verifier, the redirect URI, the code's
single use and its expiry, and signs an id_token carrying the nonce; a userinfo endpoint answering
a signed JWT as ProConnect does (or JSON), and an end-session endpoint.

The test knobs (`identity`, `nonce_override`, `code_lifetime`) stand for the user's choices at
the provider and for a misbehaving or attacked provider.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import secrets
import threading
import time
from typing import Any
from urllib.parse import urlencode

from flask import Flask, abort, jsonify, redirect, request
from joserfc import jwt
from joserfc.jwk import RSAKey
from werkzeug.serving import make_server


@functools.cache
def _signing_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "test-key", "use": "sig"})


class OIDCProvider:
    def __init__(
        self,
        client_id: str,
        client_secret: str,
        *,
        ssl_context=None,
        redirect_uri_prefix: str = "http://localhost/",
        identities: dict[str, dict[str, Any]] | None = None,
    ):
        """`identities`: users already signed in at the provider (single sign-on), named by its
        own `op_user` cookie; without that cookie the user is `identity`. With `ssl_context`
        the provider speaks https (as production requires of its issuer)."""
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri_prefix = redirect_uri_prefix
        self.identities = identities if identities is not None else {}  # kept: filled later
        self.sign_ins = 0
        self.key = _signing_key()
        self.identity: dict[str, Any] = {}
        self.nonce_override: str | None = None
        self.code_lifetime = 60.0
        self.userinfo_as_jwt = True
        self.codes: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, dict[str, Any]] = {}
        self.authorize_requests: list[dict[str, str]] = []
        self.logouts: list[dict[str, str]] = []
        self.app = self._build_app()
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True, ssl_context=ssl_context)
        scheme = "https" if ssl_context else "http"
        self.issuer = f"{scheme}://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> OIDCProvider:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode({"alg": "RS256", "kid": "test-key"}, claims, self.key)

    def _build_app(self) -> Flask:
        app = Flask("test-oidc-provider")

        @app.get("/.well-known/openid-configuration")
        def discovery():
            return jsonify(
                issuer=self.issuer,
                authorization_endpoint=f"{self.issuer}/authorize",
                token_endpoint=f"{self.issuer}/token",
                userinfo_endpoint=f"{self.issuer}/userinfo",
                jwks_uri=f"{self.issuer}/jwks",
                end_session_endpoint=f"{self.issuer}/session/end",
                response_types_supported=["code"],
                subject_types_supported=["public"],
                id_token_signing_alg_values_supported=["RS256"],
                code_challenge_methods_supported=["S256"],
                token_endpoint_auth_methods_supported=["client_secret_basic", "client_secret_post"],
                scopes_supported=["openid", "email", "given_name", "usual_name", "siret", "uid"],
            )

        @app.get("/jwks")
        def jwks():
            return jsonify(keys=[self.key.as_dict(private=False)])

        @app.get("/authorize")
        def authorize():
            args = request.args.to_dict()
            self.authorize_requests.append(args)
            if args.get("client_id") != self.client_id:
                abort(400, "unknown client")
            redirect_uri = args.get("redirect_uri", "")
            if not redirect_uri.startswith(self.redirect_uri_prefix):
                abort(400, "unregistered redirect_uri")
            if args.get("response_type") != "code" or "openid" not in args.get("scope", ""):
                abort(400, "openid code flow only")
            if args.get("code_challenge_method") != "S256" or not args.get("code_challenge"):
                abort(400, "PKCE S256 required")
            code = secrets.token_urlsafe(24)
            self.codes[code] = {
                "redirect_uri": redirect_uri,
                "challenge": args["code_challenge"],
                "nonce": args.get("nonce"),
                "acr_values": args.get("acr_values"),
                "issued": time.monotonic(),
                "identity": dict(
                    self.identities.get(request.cookies.get("op_user", "")) or self.identity
                ),
            }
            query = urlencode({"code": code, "state": args.get("state", "")})
            return redirect(f"{redirect_uri}?{query}")

        def _client_authenticated() -> bool:
            auth = request.authorization
            if auth is not None and auth.type == "basic":
                return (auth.username, auth.password) == (self.client_id, self.client_secret)
            return (request.form.get("client_id"), request.form.get("client_secret")) == (
                self.client_id,
                self.client_secret,
            )

        def _error(code: str, status: int = 400):
            return jsonify(error=code), status

        @app.post("/token")
        def token():
            if not _client_authenticated():
                return _error("invalid_client", 401)
            if request.form.get("grant_type") != "authorization_code":
                return _error("unsupported_grant_type")
            grant = self.codes.pop(request.form.get("code", ""), None)  # single use
            if grant is None or time.monotonic() - grant["issued"] > self.code_lifetime:
                return _error("invalid_grant")
            if request.form.get("redirect_uri") != grant["redirect_uri"]:
                return _error("invalid_grant")
            verifier = request.form.get("code_verifier", "")
            digest = hashlib.sha256(verifier.encode()).digest()
            if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != grant["challenge"]:
                return _error("invalid_grant")
            identity = grant["identity"]
            now = int(time.time())
            access_token = secrets.token_urlsafe(24)
            self.tokens[access_token] = identity
            id_claims = {
                "iss": self.issuer,
                "sub": identity["sub"],
                "aud": self.client_id,
                "iat": now,
                "exp": now + 60,
                "auth_time": now,
                "acr": identity.get("acr", "eidas1"),
                "amr": identity.get("amr", ["pwd"]),
            }
            self.sign_ins += 1
            nonce = self.nonce_override or grant["nonce"]
            if nonce:
                id_claims["nonce"] = nonce
            return jsonify(
                access_token=access_token,
                token_type="Bearer",
                expires_in=60,
                id_token=self._sign(id_claims),
                scope="openid email given_name usual_name siret uid",
            )

        @app.get("/userinfo")
        def userinfo():
            header = request.headers.get("Authorization", "")
            identity = self.tokens.get(header.removeprefix("Bearer "))
            if not header.startswith("Bearer ") or identity is None:
                return _error("invalid_token", 401)
            claims = {k: v for k, v in identity.items() if k not in ("acr", "amr")}
            if self.userinfo_as_jwt:
                claims |= {"iss": self.issuer, "aud": self.client_id}
                return self._sign(claims), 200, {"Content-Type": "application/jwt"}
            return jsonify(claims)

        @app.get("/session/end")
        def end_session():
            args = request.args.to_dict()
            self.logouts.append(args)
            target = args.get("post_logout_redirect_uri")
            if not target:
                return "Signed out."
            return redirect(f"{target}?{urlencode({'state': args.get('state', '')})}")

        return app
