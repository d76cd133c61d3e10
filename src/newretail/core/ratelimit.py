"""Request rates per credential and per address: GCRA, in Redis when several servers share it.

GCRA (the generic cell rate algorithm) keeps one number per key, the theoretical arrival
time (TAT) of the next request. A rate of `per_second` with a `burst` admits `burst` requests
at once and then one every `1 / per_second` seconds; a request that would push the TAT more
than `burst` intervals ahead of now is refused, and the excess is how long to wait.

With `NEWRETAIL_REDIS_URL` the TAT lives in Redis and is read and moved by one Lua script
(atomic, on Redis's clock), so every server process sharing that Redis enforces one limit.
Without it each process keeps its own in memory. If Redis stops answering, a process falls back
to its own memory (limits then hold per process) and logs it, rather than refusing traffic.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import Any

import redis
import redis.asyncio as redis_async
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from newretail.core.error_text import api_message
from newretail.core.errors import RateLimited
from newretail.core.http import problem, request_credential
from newretail.core.i18n import negotiate
from newretail.core.security import WRITE_KEY_PREFIX

log = logging.getLogger(__name__)

KEY_PREFIX = "newretail:rate:"

# KEYS[1] the key; ARGV[1] the interval (s), ARGV[2] the burst, ARGV[3] 1 to take a slot, 0 to
# only look. Returns {admitted (1|0), seconds to wait (as text: Lua numbers become integers)}.
_GCRA = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local interval = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2]) * interval
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local next_tat = tat + interval
local excess = next_tat - now - capacity
if excess > 0 then return {0, tostring(excess)} end
if ARGV[3] == '1' then
  redis.call('SET', KEYS[1], string.format('%.6f', next_tat), 'PX',
             math.ceil((next_tat - now) * 1000))
end
return {1, '0'}
"""


@dataclass(frozen=True)
class Rate:
    """`per_second` sustained, `burst` at once; a rate of 0 per second is no limit."""

    per_second: float
    burst: int

    @property
    def enabled(self) -> bool:
        return self.per_second > 0

    @property
    def interval(self) -> float:
        return 1.0 / self.per_second


@dataclass(frozen=True)
class Decision:
    """Whether a request is admitted, and if not, how many seconds until one would be."""

    admitted: bool
    retry_after: float = 0.0

    @property
    def retry_after_seconds(self) -> int:
        """The Retry-After header's whole seconds (at least 1)."""
        return max(1, math.ceil(self.retry_after))


ADMITTED = Decision(True)

# The OpenAPI document's answer of every operation that takes a credential
RATE_LIMITED_RESPONSE: dict[str, Any] = {
    "description": "Too many requests for this key (`rate_limited`, field `authorization`); "
    "send again after `Retry-After` seconds (also `retry_after` in the body)",
    "headers": {
        "Retry-After": {
            "description": "Seconds to wait before the next request",
            "schema": {"type": "integer", "minimum": 1},
        }
    },
}


def limit_key(kind: str, identifier: str) -> str:
    """The store key of one credential or address: a hash, so no secret is kept in Redis."""
    digest = hashlib.sha256(identifier.encode()).hexdigest()[:32]
    return f"{KEY_PREFIX}{kind}:{digest}"


class MemoryRates:
    """GCRA in this process's memory (the embedded server, or Redis not configured)."""

    def __init__(self, clock: Any = time.monotonic, max_keys: int = 100_000):
        self._clock = clock
        self._arrivals: dict[str, float] = {}
        self._lock = threading.Lock()
        self._max_keys = max_keys

    def check(self, key: str, rate: Rate, take: bool = True) -> Decision:
        """Take a slot of `rate` for `key` (or with `take=False` only see whether one is free)."""
        if not rate.enabled:
            return ADMITTED
        with self._lock:
            now = self._clock()
            next_arrival = max(self._arrivals.get(key, now), now) + rate.interval
            excess = next_arrival - now - rate.burst * rate.interval
            if excess > 0:
                return Decision(False, excess)
            if take:
                if len(self._arrivals) >= self._max_keys:
                    self._forget_idle(now)
                self._arrivals[key] = next_arrival
            return ADMITTED

    def _forget_idle(self, now: float) -> None:
        """Drop keys whose next arrival has passed (they would start afresh anyway)."""
        for key in [k for k, arrival in self._arrivals.items() if arrival <= now]:
            del self._arrivals[key]


class RateLimits:
    """The server's rate limiter: Redis when configured, memory otherwise (and as fallback)."""

    def __init__(self, redis_url: str | None = None, timeout_seconds: float = 0.5):
        self.redis_url = redis_url
        self.memory = MemoryRates()
        self._sync: redis.Redis | None = None
        self._async: redis_async.Redis | None = None
        if redis_url:
            options: dict[str, Any] = {
                "socket_timeout": timeout_seconds,
                "socket_connect_timeout": timeout_seconds,
            }
            self._sync = redis.Redis.from_url(redis_url, **options)
            self._async = redis_async.Redis.from_url(redis_url, **options)
            self._sync_script = self._sync.register_script(_GCRA)
            self._async_script = self._async.register_script(_GCRA)

    @property
    def shared(self) -> bool:
        """True when the limits are shared through Redis."""
        return self._sync is not None

    def check(self, key: str, rate: Rate, take: bool = True) -> Decision:
        """Take (or look at) a slot of `rate` for `key`, from a thread."""
        if not rate.enabled:
            return ADMITTED
        if self._sync is None:
            return self.memory.check(key, rate, take)
        try:
            reply = self._sync_script(keys=[key], args=_args(rate, take))
        except redis.RedisError as exc:
            _fallback(exc)
            return self.memory.check(key, rate, take)
        return _decision(reply)

    async def check_async(self, key: str, rate: Rate, take: bool = True) -> Decision:
        """`check` from the event loop."""
        if not rate.enabled:
            return ADMITTED
        if self._async is None:
            return self.memory.check(key, rate, take)
        try:
            reply = await self._async_script(keys=[key], args=_args(rate, take))
        except redis.RedisError as exc:
            _fallback(exc)
            return self.memory.check(key, rate, take)
        return _decision(reply)

    def ping(self) -> None:
        """Raise `redis.RedisError` when the configured Redis does not answer."""
        if self._sync is not None:
            self._sync.ping()

    async def aclose(self) -> None:
        """Close the Redis connections."""
        if self._async is not None:
            await self._async.aclose()
        if self._sync is not None:
            self._sync.close()


def _args(rate: Rate, take: bool) -> list[str]:
    return [repr(rate.interval), str(rate.burst), "1" if take else "0"]


def _decision(reply: Any) -> Decision:
    admitted, wait = reply
    return ADMITTED if int(admitted) == 1 else Decision(False, float(wait))


_last_warning = 0.0


def _fallback(exc: Exception) -> None:
    global _last_warning
    now = time.monotonic()
    if now - _last_warning > 60:  # once a minute, not once a request
        _last_warning = now
        log.warning("rate limits: Redis does not answer (%s); limiting per process", exc)


@dataclass(frozen=True)
class _RefusedRoute:
    """The route template the metrics show for a refused request (one label, not its path)."""

    path: str = "(rate limited)"


_REFUSED = _RefusedRoute()


class RateLimitMiddleware:
    """429 with Retry-After for a credential over its rate: write keys (`nr_wk_…`, the
    collector) at one rate, API keys at another. The local operator's credential (the CLI
    beside the server) and requests without a credential pass (the latter get their 401)."""

    def __init__(
        self,
        app: ASGIApp,
        limits: RateLimits,
        write_key: Rate,
        api_key: Rate,
        exempt_prefixes: tuple[str, ...] = (),
    ):
        self.app = app
        self.limits = limits
        self.rates = {"write_key": write_key, "api_key": api_key}
        self.exempt_prefixes = exempt_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = request_credential(dict(scope["headers"])) if scope["type"] == "http" else None
        if token is None or token.startswith(self.exempt_prefixes):
            await self.app(scope, receive, send)
            return
        kind = "write_key" if token.startswith(WRITE_KEY_PREFIX) else "api_key"
        rate = self.rates[kind]
        decision = await self.limits.check_async(limit_key(kind, token), rate)
        if decision.admitted:
            await self.app(scope, receive, send)
            return
        scope["route"] = _REFUSED  # what the metrics middleware counts it under
        wait = decision.retry_after_seconds
        what = "write key" if kind == "write_key" else "API key"
        error = RateLimited(
            f"too many requests for this {what} (over {rate.per_second:g} per second, "
            f"{rate.burst} at once); retry after {wait} s",
            field="authorization",
            retry_after=wait,
        )
        locale = negotiate(dict(scope["headers"]).get(b"accept-language", b"").decode("latin-1"))
        response = rate_limited_response(error, locale)
        await response(scope, receive, send)


def rate_limited_response(error: RateLimited, locale: str) -> JSONResponse:
    """429 problem details with Retry-After (also `retry_after` in the body, in seconds)."""
    response = problem(
        429,
        str(error.code),
        api_message(error, locale),
        error.field,
        retry_after=error.retry_after,
    )
    response.headers["Retry-After"] = str(error.retry_after)
    return response
