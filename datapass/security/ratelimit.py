"""Fixed one-minute-window rate limits, shared by sign-in, the OAuth endpoints and public pages.

`RateLimiter.hit(key)` counts one call and answers the seconds to wait when over the limit. The
counters live in this process (`memory://`, the embedded default: with N workers a key gets up
to N times the limit) or in Redis, shared by every worker, when
DATAPASS_RATELIMIT_STORAGE_URL (or, in production, the broker) is a redis:// URL. A Redis outage
lets calls through (logged) rather than locking everybody out.
"""

from __future__ import annotations

import logging
import math
import threading
import time

from flask import Flask

WINDOW = 60.0
MAX_TRACKED = 10_000
EXTENSION = "datapass.security.limiters"
log = logging.getLogger(__name__)


class RateLimiter:
    """In-process counters."""

    def __init__(self, per_minute: int, name: str = "default"):
        self.per_minute = per_minute
        self.name = name
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


class RedisRateLimiter(RateLimiter):
    """Counters in Redis (INCR + EXPIRE on the window's first call), shared by all workers."""

    def __init__(self, per_minute: int, name: str, client, prefix: str = "datapass:ratelimit"):
        super().__init__(per_minute, name)
        self.client = client
        self.prefix = f"{prefix}:{name}:"

    def hit(self, key: str) -> int | None:
        if self.per_minute <= 0:
            return None
        redis_key = self.prefix + key
        try:
            pipe = self.client.pipeline()
            pipe.incr(redis_key)
            pipe.expire(redis_key, int(WINDOW), nx=True)
            pipe.ttl(redis_key)
            count, _, ttl = pipe.execute()
        except Exception as exc:  # noqa: BLE001 - a limiter outage must not stop the service
            log.warning("rate limit store unavailable, %s not limited: %s", self.name, exc)
            return None
        if count > self.per_minute:
            return max(1, int(ttl) if ttl and ttl > 0 else int(WINDOW))
        return None


def storage_url(config: dict) -> str:
    """Where the counters live: the explicit setting, else Redis when the broker is (production)."""
    url = config.get("RATELIMIT_STORAGE_URL")
    if url:
        return url
    broker = config.get("BROKER_URL") or ""
    if config["ENV_NAME"] == "production" and broker.startswith(("redis://", "rediss://")):
        return broker
    return "memory://"


def limiter(app: Flask, name: str, per_minute: int) -> RateLimiter:
    """The app's limiter called `name` (created once, on the configured store)."""
    limiters = app.extensions.setdefault(EXTENSION, {})
    if name not in limiters:
        url = storage_url(app.config)
        if url.startswith(("redis://", "rediss://")):
            import redis

            client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
            limiters[name] = RedisRateLimiter(per_minute, name, client)
        else:
            limiters[name] = RateLimiter(per_minute, name)
    return limiters[name]
