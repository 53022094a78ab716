"""Per-client rate limit of the token endpoint, in this process (fixed one-minute windows).

Counted once the client is authenticated, so that nobody can use up another client's quota by
sending its client_id with a wrong secret (secrets have 256 bits: guessing is not the threat, a
runaway client is). With N workers a client gets up to N times the limit; a shared store (Redis)
would make it global.
"""

from __future__ import annotations

import math
import threading
import time

from authlib.oauth2.base import OAuth2Error

WINDOW = 60.0
MAX_TRACKED = 10_000
LIMITER_EXTENSION = "datapass.oauth.limiter"


class RateLimitedError(OAuth2Error):
    """429 with Retry-After; the error code is ours (RFC 6749 defines none for this)."""

    error = "rate_limited"
    status_code = 429

    def __init__(self, retry_after: int):
        super().__init__(description="Too many token requests for this client.")
        self.retry_after = retry_after

    def get_headers(self):
        return [*super().get_headers(), ("Retry-After", str(self.retry_after))]


class RateLimiter:
    def __init__(self, per_minute: int):
        self.per_minute = per_minute
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[float, int]] = {}

    def hit(self, key: str) -> int | None:
        """Count one call for `key`; the seconds to wait when over the limit, else None."""
        if self.per_minute <= 0:
            return None
        now = time.monotonic()
        with self._lock:
            if len(self._windows) > MAX_TRACKED:
                self._windows = {k: v for k, v in self._windows.items() if now - v[0] < WINDOW}
            start, count = self._windows.get(key, (now, 0))
            if now - start >= WINDOW:
                start, count = now, 0
            self._windows[key] = (start, count + 1)
            if count + 1 > self.per_minute:
                return max(1, math.ceil(WINDOW - (now - start)))
        return None
