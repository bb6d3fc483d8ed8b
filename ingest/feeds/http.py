"""HTTP for remote sources: timeouts, bounded retries with backoff and jitter,
`Retry-After` respected, and downloads that reach their final name only when complete
and verified (a partial download is never ingested).

Messages name the URL without its query string and never carry credentials: they go in
headers, which no message or log line shows.
"""

from __future__ import annotations

import hashlib
import os
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from ingest import __version__

if TYPE_CHECKING:
    import httpx  # imported when a source is fetched: a run without one is spared it

T = TypeVar("T")
RETRY_STATUS = {408, 425, 429, 500, 502, 503, 504}


class FetchError(Exception):
    """A remote source cannot be fetched now: the run records it and goes on."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _Again(Exception):
    """One attempt failed in a way worth another (a timeout, 429, 5xx, a short body)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


def _origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, parts.hostname, parts.port or default


def shown(url: str) -> str:
    """The URL as messages show it: no user info, no query string (tokens hide there)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


@dataclass(frozen=True)
class Policy:
    timeout: float = 30.0  # connect, and between bytes
    total: float = 1800.0  # one download in all
    retries: int = 4
    backoff: float = 2.0
    max_wait: float = 300.0


@dataclass
class Client:
    """One source's HTTP client. Its credentials go only to `origin` (the source URL's
    scheme, host and port): not to a file a list names on another host, and httpx drops
    them when a redirect leaves it."""

    policy: Policy
    auth: tuple[str, str] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    origin: str | None = None
    sleep: Callable[[float], None] = time.sleep
    _http: httpx.Client = field(init=False)
    _jitter: random.Random = field(init=False, default_factory=random.Random)

    def __post_init__(self) -> None:
        import httpx

        self._http = httpx.Client(
            timeout=httpx.Timeout(self.policy.timeout),
            follow_redirects=True,
            headers={"User-Agent": f"cyberlog/{__version__}"},
        )

    def _credentials(self, url: str, headers: Mapping[str, str] | None) -> dict[str, Any]:
        import httpx

        own = self.origin is not None and _origin(url) == _origin(self.origin)
        extra = {**(self.headers if own else {}), **(headers or {})}
        return {"headers": extra, "auth": httpx.BasicAuth(*self.auth) if own and self.auth else None}

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(
        self, url: str, *, params: Mapping[str, str] | None = None, headers: Mapping[str, str] | None = None
    ) -> httpx.Response:
        """A small response read whole (a manifest, a TAXII page); 304 is returned as it is."""

        def attempt() -> httpx.Response:
            response = self._http.get(url, params=params, **self._credentials(url, headers))
            _check(response)
            return response

        return self._retried(url, attempt)

    def download(
        self,
        url: str,
        dest: Path,
        *,
        size: int | None = None,
        md5: str | None = None,
        check: Callable[[Path], str | None] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Headers | None:
        """Stream `url` to `dest`: first into `dest.part`, then, when the body is whole and
        matches `size`, `md5` and `check` (a problem, or None), renamed into place. A
        mismatch is retried like a network error. The response headers are returned; None
        for 304 Not Modified (to conditional `headers`), `dest` left as it was."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        part = dest.with_name(dest.name + ".part")

        def attempt() -> httpx.Headers | None:
            started = time.monotonic()
            digest, got = hashlib.md5(usedforsecurity=False), 0
            with self._http.stream("GET", url, **self._credentials(url, headers)) as response:
                _check(response)
                if response.status_code == 304:
                    return None
                with part.open("wb") as out:
                    for chunk in response.iter_bytes(1 << 20):
                        out.write(chunk)
                        digest.update(chunk)
                        got += len(chunk)
                        if time.monotonic() - started > self.policy.total:
                            raise _Again(f"download took more than {self.policy.total:g} s (fetch.download_seconds)")
                    out.flush()
                    os.fsync(out.fileno())
                found = response.headers
            if size is not None and got != size:
                raise _Again(f"got {got:,} bytes, the list says {size:,}")
            if md5 is not None and digest.hexdigest() != md5.lower():
                raise _Again(f"MD5 {digest.hexdigest()} differs from the list's {md5.lower()}")
            if check is not None and (problem := check(part)) is not None:
                raise _Again(problem)
            part.replace(dest)
            return found

        try:
            return self._retried(url, attempt)
        finally:
            part.unlink(missing_ok=True)

    def _retried(self, url: str, attempt: Callable[[], T]) -> T:
        import httpx

        tries = self.policy.retries + 1
        for n in range(tries):
            wait: float | None = None
            try:
                return attempt()
            except _Again as exc:
                problem, wait = exc.message, exc.retry_after
            except httpx.TimeoutException:
                problem = f"no answer within {self.policy.timeout:g} s (fetch.timeout_seconds)"
            except httpx.TransportError as exc:
                problem = _transport(exc)
            if n == tries - 1:
                break
            if wait is None:
                step = min(self.policy.max_wait, self.policy.backoff * 2**n)
                wait = step * self._jitter.uniform(0.5, 1.0)
            elif wait > self.policy.max_wait:
                raise FetchError(
                    f"{shown(url)}: {problem}; the server asks to retry after {wait:.0f} s, longer than "
                    f"fetch.max_wait_seconds ({self.policy.max_wait:g})"
                )
            self.sleep(wait)
        raise FetchError(f"{shown(url)}: {problem} ({tries} attempt{'s' if tries > 1 else ''})")


def _check(response: httpx.Response) -> None:
    status = response.status_code
    if status < 300 or status == 304:
        return
    why = f"HTTP {status} {response.reason_phrase}".rstrip()
    if status in RETRY_STATUS:
        raise _Again(why, _retry_after(response.headers.get("Retry-After")))
    if status in (401, 403):
        raise FetchError(f"{shown(str(response.url))}: {why}: check the source's [sources.auth] credentials")
    raise FetchError(f"{shown(str(response.url))}: {why}")


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _transport(exc: httpx.TransportError) -> str:
    import httpx

    if isinstance(exc, httpx.RemoteProtocolError):
        return f"the connection broke off: {exc}"
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect: {exc}"
    return f"{type(exc).__name__}: {exc}"
