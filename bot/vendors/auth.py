"""Token renewal, written once for every vendor that signs in for a token (TimeTap, SwipeClock,
WhosOff).

Many worker threads share one token per key. A token is renewed before its ``renew_at``; after
a refusal the caller passes the token it used (``stale``), and only the first thread to come back
with that token renews it, so N threads refused together cause one sign-in. One lock per key
keeps one slow sign-in (an employee's token) from blocking everyone else's.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

import httpx

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Token:
    value: str
    renew_at: float  # on the cache's clock: from then on the token is renewed before use


class TokenCache(Generic[K]):
    """Issued tokens per key; ``fetch(key, previous)`` signs in (``previous`` lets a vendor
    refresh with the token it has rather than with credentials)."""

    def __init__(self, fetch: Callable[[K, Token | None], Token], clock: Callable[[], float]) -> None:
        self._fetch = fetch
        self._clock = clock
        self._tokens: dict[K, Token] = {}
        self._locks: dict[K, threading.Lock] = {}
        self._guard = threading.Lock()

    def _usable(self, token: Token | None, stale: str | None) -> bool:
        return token is not None and token.value != stale and self._clock() < token.renew_at

    def get(self, key: K, *, stale: str | None = None) -> str:
        """A usable token for ``key``; ``stale`` is one the vendor just refused."""
        token = self._tokens.get(key)
        if token is not None and self._usable(token, stale):
            return token.value
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            token = self._tokens.get(key)
            if token is not None and self._usable(token, stale):
                return token.value  # another thread renewed it while we waited
            try:
                fresh = self._fetch(key, token)
            except Exception:
                if stale is not None:  # never send a refused token again: the next call signs in
                    self._tokens.pop(key, None)
                raise
            self._tokens[key] = fresh
            return fresh.value

    def extend(self, key: K, value: str, renew_at: float) -> None:
        """Push back the renewal of ``value`` (tokens that expire after a time of disuse)."""
        with self._guard:
            token = self._tokens.get(key)
            if token is not None and token.value == value:
                self._tokens[key] = replace(token, renew_at=renew_at)


def with_token(
    cache: TokenCache[K], key: K, send: Callable[[str], httpx.Response], refused: Callable[[httpx.Response], bool]
) -> tuple[httpx.Response, str]:
    """Send with the cached token; when the vendor refuses the token, renew it once and send once
    more. Safe for writes too: these vendors check the token before doing anything. Returns the
    last answer (maybe a second refusal, for the caller to word) and the token it was sent with."""
    token = cache.get(key)
    response = send(token)
    if refused(response):
        token = cache.get(key, stale=token)
        response = send(token)
    return response, token
