"""A token bucket per client address, in memory (per replica) and bounded in size."""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from statuspage.config import parse_duration

_RATE_RE = re.compile(r"^\s*(\d+)\s*/\s*(\S+)\s*$")


@dataclass(frozen=True)
class Rate:
    requests: int
    per_seconds: float

    @classmethod
    def parse(cls, text: str) -> Rate:
        """`10/1h`: at most 10 requests per hour, in bursts of up to 10."""
        match = _RATE_RE.match(text)
        if not match or int(match.group(1)) < 1:
            raise ValueError(f"{text!r} is not a rate like 10/1h (requests/duration)")
        return cls(int(match.group(1)), parse_duration(match.group(2)).total_seconds())


class RateLimiter:
    def __init__(
        self,
        rate: Rate,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.max_clients = max_clients
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, client: str) -> bool:
        now = self.clock()
        refill = self.rate.requests / self.rate.per_seconds
        with self._lock:
            tokens, at = self._buckets.pop(client, (float(self.rate.requests), now))
            tokens = min(float(self.rate.requests), tokens + (now - at) * refill)
            allowed = tokens >= 1.0
            self._buckets[client] = (tokens - 1.0 if allowed else tokens, now)
            while len(self._buckets) > self.max_clients:
                # Forgetting the least recent client only ever gives it a fresh bucket.
                self._buckets.popitem(last=False)
            return allowed

    def retry_after_seconds(self) -> int:
        return max(1, round(self.rate.per_seconds / self.rate.requests))
