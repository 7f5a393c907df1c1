"""How patiently to retry a request: the policy (attempts, backoff with full jitter, Retry-After)
and the loop that applies it, retrying by error type only (:class:`TransientSourceError`)."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from fecflow.config import Settings
from fecflow.errors import RateLimited, TransientSourceError

logger = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry a request. Build it with :meth:`from_settings`."""

    max_attempts: int = 5
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    timeout: float = 60.0
    # A server asking to wait longer than this (Retry-After) fails now instead of blocking the run.
    retry_after_max: float = 900.0
    # One download, retries and resumes included, fails (terminal) past ``deadline`` seconds, or when
    # its average rate stays under ``min_bytes_per_s`` after ``rate_grace_s``: a server that drips
    # bytes just fast enough to beat the read timeout cannot hold a run for hours.
    deadline: float | None = None
    min_bytes_per_s: float = 0.0
    rate_grace_s: float = 60.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)
    jitter: Callable[[float, float], float] = field(default=random.uniform, repr=False, compare=False)

    @classmethod
    def from_settings(cls, settings: Settings, *, sleep: Callable[[float], None] = time.sleep) -> RetryPolicy:
        return cls(
            max_attempts=settings.http_max_attempts,
            backoff_base=settings.http_backoff_base,
            backoff_max=settings.http_backoff_max,
            timeout=settings.http_timeout,
            deadline=settings.http_deadline,
            min_bytes_per_s=settings.http_min_rate,
            sleep=sleep,
        )

    def backoff_delay(self, failures: int) -> float:
        """Full jitter: uniform(0, min(max, base * 2**(failures-1)))."""
        cap = min(self.backoff_max, self.backoff_base * (2 ** max(failures - 1, 0)))
        return self.jitter(0.0, cap)

    def delay_for(self, error: TransientSourceError, failures: int) -> float:
        """The wait before the next attempt: the server's Retry-After if it sent one, else backoff."""
        if isinstance(error, RateLimited) and error.retry_after is not None:
            return max(0.0, error.retry_after)
        return self.backoff_delay(failures)


def call_with_retries(operation: Callable[[int], T], policy: RetryPolicy, *, what: str) -> tuple[T, int]:
    """Run ``operation(attempt)`` until it succeeds, retrying on :class:`TransientSourceError` only.

    Returns ``(result, attempts)``. Terminal errors propagate at once; the last transient error
    propagates (with the attempt count in its message) when attempts are exhausted.
    """
    attempt = 0
    while True:
        attempt += 1
        try:
            return operation(attempt), attempt
        except TransientSourceError as exc:
            if attempt >= policy.max_attempts:
                exc.message = f"{exc.message} (gave up after {attempt} attempts)"
                exc.args = (exc.message,)
                raise
            delay = policy.delay_for(exc, attempt)
            if delay > policy.retry_after_max:
                exc.message = f"{exc.message} (server asks to wait {delay:.0f}s; not waiting that long)"
                exc.args = (exc.message,)
                raise
            logger.warning(
                "%s failed (attempt %d/%d): %s; retrying in %.1fs",
                what, attempt, policy.max_attempts, exc, delay,
            )
            policy.sleep(delay)


