"""Thread-safe token buckets for the vendors' rate limits."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass


@dataclass
class Decision:
    """Outcome of one :meth:`TokenBucket.take`."""

    allowed: bool
    limit: int
    remaining: int
    reset_s: int  # seconds until the bucket is full again
    retry_after_s: int  # seconds until one token is available (0 when allowed)


class TokenBucket:
    """``capacity`` tokens refilled continuously at ``capacity / window_s`` per second.

    Args:
        capacity: burst size (already multiplied by the rate-limit scale).
        window_s: seconds to refill an empty bucket.
    """

    def __init__(self, capacity: float, window_s: float) -> None:
        self._lock = threading.Lock()
        self.configure(capacity, window_s)

    def configure(self, capacity: float, window_s: float) -> None:
        """Reset the bucket to a new size (full)."""
        with self._lock:
            self.capacity = max(1.0, capacity)
            self.window_s = window_s
            self.rate = self.capacity / window_s
            self.tokens = self.capacity
            self.stamp = time.monotonic()

    def _refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def peek(self) -> Decision:
        """Current state without taking a token."""
        with self._lock:
            self._refill(time.monotonic())
            return self._decision(True)

    def take(self) -> Decision:
        """Take one token if available."""
        with self._lock:
            self._refill(time.monotonic())
            if self.tokens >= 1.0:
                self.tokens -= 1.0
                return self._decision(True)
            return self._decision(False)

    def _decision(self, allowed: bool) -> Decision:
        missing = max(0.0, 1.0 - self.tokens)
        retry = 0 if allowed else max(1, math.ceil(missing / self.rate))
        reset = math.ceil((self.capacity - self.tokens) / self.rate) if self.rate else 0
        return Decision(
            allowed=allowed,
            limit=int(self.capacity),
            remaining=max(0, int(self.tokens)),
            reset_s=max(0, reset),
            retry_after_s=retry,
        )


class DailyCounter:
    """A plain counter for HubSpot's daily quota headers (never refilled while running)."""

    def __init__(self, limit: int) -> None:
        self._lock = threading.Lock()
        self.limit = limit
        self.used = 0

    def configure(self, limit: int) -> None:
        """Set a new quota and start counting again."""
        with self._lock:
            self.limit = limit
            self.used = 0

    def take(self) -> tuple[bool, int]:
        """Count one call; returns ``(allowed, remaining)``."""
        with self._lock:
            if self.used >= self.limit:
                return False, 0
            self.used += 1
            return True, self.limit - self.used
