"""Client ids, client secrets and their keyed hashes; token fingerprints.

Secrets are 256 random bits, so a fast keyed hash (HMAC-SHA256 with a server key) is as strong as
a slow password hash and keeps token issuance fast. Comparisons are constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import current_app

from datapass.oauth import clock

HMAC_KEY_EXTENSION = "datapass.oauth.hmac_key"


def hmac_key_from_config(config: dict) -> bytes:
    """The server key: OAUTH_SECRET_HMAC_KEY, or one derived from SECRET_KEY."""
    explicit = config.get("OAUTH_SECRET_HMAC_KEY")
    if explicit:
        return explicit.encode()
    return hmac.new(
        config["SECRET_KEY"].encode(), b"datapass.oauth.client-secret", hashlib.sha256
    ).digest()


def generate_client_id() -> str:
    return "dp_" + secrets.token_hex(16)


def generate_secret() -> str:
    """A new client secret: 256 bits of entropy, with a prefix that secret scanners can spot."""
    return "dps_" + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    key = current_app.extensions[HMAC_KEY_EXTENSION]
    return hmac.new(key, secret.encode(), hashlib.sha256).hexdigest()


def secret_matches(credential, secret: str) -> bool:
    """True for the current secret, or the previous one while its grace period lasts."""
    candidate = hash_secret(secret)
    current = hmac.compare_digest(candidate, credential.secret_hash or "")
    previous = hmac.compare_digest(candidate, credential.previous_secret_hash or "")
    in_grace = bool(
        credential.previous_secret_expires_at
        and clock.now() < credential.previous_secret_expires_at
    )
    return bool(credential.secret_hash) and (current or (previous and in_grace))


def token_hash(token: str) -> str:
    """How an access token is looked up: its SHA-256, so the store never holds a usable token."""
    return hashlib.sha256(token.encode()).hexdigest()
