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
    """Counters in Redis, shared by all workers.

    Small limits (sign-in: tens a minute) are counted exactly: INCR + EXPIRE on the window's
    first call, one round trip per call. Large ones (introspection, 60,000 a minute on the
    producers' hot path) are counted in this process and added to the shared counter of the
    current minute in batches of 1 % of the limit, or at least every second: a call costs a
    round trip once in a hundred. The price: each process may let through up to one batch more
    than the limit before it sees the shared total.
    """

    EXACT_BELOW = 1000  # per minute: smaller limits are counted exactly

    def __init__(
        self,
        per_minute: int,
        name: str,
        client,
        prefix: str = "datapass:ratelimit",
        clock=time.time,
    ):
        super().__init__(per_minute, name)
        self.client = client
        self.prefix = f"{prefix}:{name}:"
        self.batch = per_minute // 100 if per_minute >= self.EXACT_BELOW else 1
        self.clock = clock
        # key -> [minute, calls not yet in Redis, shared total last read, when it was read]
        self._batches: dict[str, list] = {}

    def hit(self, key: str) -> int | None:
        if self.per_minute <= 0:
            return None
        if self.batch > 1:
            return self._batched_hit(key)
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

    def _batched_hit(self, key: str) -> int | None:
        now = self.clock()
        minute = int(now // WINDOW)
        retry_after = max(1, math.ceil(WINDOW - now % WINDOW))
        with self._lock:
            state = self._batches.get(key)
            if state is None or state[0] != minute:
                if len(self._batches) > MAX_TRACKED:
                    self._batches = {k: v for k, v in self._batches.items() if v[0] == minute}
                state = self._batches[key] = [minute, 0, 0, float("-inf")]
            state[1] += 1
            if state[1] < self.batch and now - state[3] < 1.0:
                return retry_after if state[1] + state[2] > self.per_minute else None
            pending, state[1], state[3] = state[1], 0, now
        redis_key = f"{self.prefix}{key}:{minute}"
        try:
            pipe = self.client.pipeline(transaction=False)
            pipe.incrby(redis_key, pending)
            pipe.expire(redis_key, int(2 * WINDOW))
            shared, _ = pipe.execute()
        except Exception as exc:  # noqa: BLE001 - a limiter outage must not stop the service
            log.warning("rate limit store unavailable, %s not limited: %s", self.name, exc)
            return None
        with self._lock:
            if state[0] == minute:
                state[2] = max(state[2], shared)
        return retry_after if shared > self.per_minute else None


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
