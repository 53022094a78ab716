"""Per-client rate limit of the token endpoint (fixed one-minute windows).

Counted once the client is authenticated, so that nobody can use up another client's quota by
sending its client_id with a wrong secret (secrets have 256 bits: guessing is not the threat, a
runaway client is). The counters are datapass.security.ratelimit's: in this process, or shared
by every worker in Redis (datapass.security.init_app installs that limiter).
"""

from __future__ import annotations

from authlib.oauth2.base import OAuth2Error

from datapass.security.ratelimit import RateLimiter  # noqa: F401 - kept importable here

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
