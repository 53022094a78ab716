"""Producer webhooks: secrets, signatures, and one HTTP POST with no redirect and no SSRF.

Each delivery is signed twice over the same raw body:
- DataPass's form, `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>`, so existing
  DataPass receivers work unchanged;
- Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>` over
  `id.timestamp.body`, keyed with the base64 part of the `whsec_` secret).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import ipaddress
import json
import secrets
import socket
import time
from dataclasses import dataclass
from functools import partial
from urllib.parse import urlsplit

from cryptography.fernet import Fernet
from flask import current_app

USER_AGENT = "DataPass-Webhooks/1.0"


class UnsafeURL(ValueError):
    """A webhook URL that DataPass must not call (scheme, private address...)."""


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _fernet() -> Fernet:
    key = current_app.config["NOTIFICATIONS_ENCRYPTION_KEY"] or current_app.config["SECRET_KEY"]
    digest = hashlib.sha256(("datapass-webhooks:" + key).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt_secret(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def decrypt_secret(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode()


def hub_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def standard_signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def signed_headers(secret: str, message_id: str, body: bytes, timestamp: int | None = None):
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Hub-Signature-256": hub_signature(secret, body),
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": standard_signature(secret, message_id, timestamp, body),
    }


def check_url(url: str) -> None:
    """Refuse what is not http(s) with a host; French messages, shown in the form."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeURL("L'adresse doit commencer par https:// (ou http://) et nommer un serveur.")
    if current_app.config["ENV_NAME"] == "production" and parts.scheme != "https":
        raise UnsafeURL("L'adresse doit utiliser https.")


def _resolve_public(host: str, port: int) -> str:
    """The first address of `host`; refused if any is private, loopback or link-local."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UnsafeURL(f"Nom de serveur introuvable : {host}") from exc
    addresses = [info[4][0] for info in infos]
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global or ip.is_multicast:
            raise UnsafeURL(f"Adresse interne refusée : {host} ({ip})")
    return addresses[0]


def _connect_to(address: str, host_and_port: tuple, *args, **kwargs) -> socket.socket:
    """socket.create_connection to `address` instead of the host's name, on the same port."""
    return socket.create_connection((address, host_and_port[1]), *args, **kwargs)


@dataclass
class Response:
    status_code: int | None
    body: str
    duration_ms: int
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def post(url: str, secret: str, message_id: str, payload: dict) -> Response:
    """One signed POST; redirects are not followed (a 3xx is a failure)."""
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    headers = signed_headers(secret, message_id, body)
    config = current_app.config
    start = time.monotonic()
    try:
        check_url(url)
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        host = parts.hostname
        timeout = config["WEBHOOK_TIMEOUT"]
        if parts.scheme == "https":
            connection = http.client.HTTPSConnection(host, port, timeout=timeout)
        else:
            connection = http.client.HTTPConnection(host, port, timeout=timeout)
        if not config["WEBHOOK_ALLOW_PRIVATE"]:
            # Checked at delivery time, then the connection goes to the checked address itself
            # (TLS still verified for the host name), so that a second DNS answer cannot point
            # elsewhere (DNS rebinding).
            address = _resolve_public(host, port)
            connection._create_connection = partial(_connect_to, address)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        headers["Host"] = parts.netloc.rpartition("@")[2]
        try:
            connection.request("POST", path, body=body, headers=headers)
            reply = connection.getresponse()
            excerpt = reply.read(2000).decode("utf-8", "replace")
            status = reply.status
        finally:
            connection.close()
    except (OSError, http.client.HTTPException, UnsafeURL) as exc:
        duration = int((time.monotonic() - start) * 1000)
        return Response(None, "", duration, error=str(exc) or exc.__class__.__name__)
    duration = int((time.monotonic() - start) * 1000)
    return Response(status, excerpt, duration)
