"""Producer credentials remembered a few seconds per process, for the introspection hot path.

Producers introspect on every call to their API; reading their own credential from the database
each time would double the queries. The price: revoking a producer credential reaches the other
processes within OAUTH_PRODUCER_CACHE_TTL seconds (the process that revokes forgets it at once).
Consumer credentials are never cached: token issuance always reads the database.
"""

from __future__ import annotations

import hmac
import threading
import time
from dataclasses import dataclass

from datapass.oauth.hashing import hash_secret
from datapass.oauth.models import PRODUCER, Credential

AUTH_METHODS = ("client_secret_basic", "client_secret_post")
PRODUCER_CACHE_EXTENSION = "datapass.oauth.producer_cache"


@dataclass(frozen=True)
class ProducerClient:
    """A detached copy of a live producer credential, with Authlib's client methods."""

    id: int
    client_id: str
    definition_id: str
    secret_hash: str
    kind: str = PRODUCER

    def get_client_id(self) -> str:
        return self.client_id

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(hash_secret(client_secret), self.secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint == "introspection" and method in AUTH_METHODS

    def check_grant_type(self, grant_type: str) -> bool:
        return False


class ProducerCache:
    def __init__(self, ttl: float):
        self.ttl = ttl
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, ProducerClient]] = {}

    def get(self, client_id: str) -> ProducerClient | None:
        entry = self._entries.get(client_id)
        if entry is None or time.monotonic() - entry[0] > self.ttl:
            return None
        return entry[1]

    def remember(self, credential: Credential) -> None:
        if self.ttl <= 0 or credential.kind != PRODUCER or credential.revoked_at:
            return
        if not credential.secret_hash:
            return
        client = ProducerClient(
            credential.id, credential.client_id, credential.definition_id, credential.secret_hash
        )
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[credential.client_id] = (time.monotonic(), client)

    def forget(self, client_id: str) -> None:
        with self._lock:
            self._entries.pop(client_id, None)
