"""Remote sources for the nightly job: GDELT file lists, MISP feeds over HTTP, TAXII 2.1
collections. Each fetches what is new since its state in the store, exactly once.

Every download goes through `http.Client` (timeouts, retries, a `.part` file renamed
only when whole and verified) into the source's folder under `[fetch] dir`, and is then
ingested like any local file. What was fetched is marked in `fetch_state` only after its
file is loaded (or found already loaded), so a run killed at any point resumes where it
stopped: at worst a file is fetched again and the ledger skips its bytes.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from ingest.feeds.http import Client, FetchError, Policy, shown
from ingest.load.ledger import FileResult
from ingest.run.config import Config, Source
from ingest.run.jobs import Job, RunResult

if TYPE_CHECKING:
    import httpx

TAXII_TYPE = "application/taxii+json;version=2.1"
GDELT_BATCH = re.compile(r"/(\d{14})\.(?:translation\.)?export\.CSV\.zip$")
MISP_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
MAX_PAGES = 1_000_000


@dataclass(frozen=True)
class Download:
    """A verified file in the source's folder, waiting for its load."""

    source: str
    item: str  # fetch_state.item: a GDELT batch URL, a MISP event uuid, 'added_after' for TAXII
    version: str | None  # GDELT: its MD5; MISP: the manifest timestamp; TAXII: date added of the last object
    url: str
    path: Path


class State:
    """`fetch_state`: per source and item, what was fetched and loaded."""

    def __init__(self, con: duckdb.DuckDBPyConnection | None) -> None:
        self.con = con

    def versions(self, source: str) -> dict[str, str | None]:
        if self.con is None:
            return {}
        rows = self.con.execute("SELECT item, version FROM fetch_state WHERE source = ?", [source]).fetchall()
        return {str(item): version for item, version in rows}

    def validators(self, source: str, url: str) -> dict[str, str]:
        """Conditional-request headers for a list or manifest fetched whole before."""
        if self.con is None:
            return {}
        found = self.con.execute(
            "SELECT etag, last_modified FROM fetch_state WHERE source = ? AND item = ?", [source, f"list:{url}"]
        ).fetchall()
        if not found:
            return {}
        etag, modified = found[0]
        return {k: v for k, v in (("If-None-Match", etag), ("If-Modified-Since", modified)) if v}

    def mark(
        self,
        source: str,
        item: str,
        version: str | None,
        url: str,
        *,
        path: str | None = None,
        file_id: str | None = None,
        run_id: str | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> None:
        assert self.con is not None
        self.con.execute(
            "INSERT OR REPLACE INTO fetch_state (source, item, version, url, etag, last_modified, file_path, "
            "file_id, run_id, fetched_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [source, item, version, shown(url), etag, last_modified, path, file_id, run_id, datetime.now(UTC)],
        )


@dataclass
class Feed:
    """One remote source: what it would fetch (`plan`) and the fetching (`fetch`)."""

    source: Source
    client: Client
    folder: Path
    state: State
    page_size: int = 1000
    blocked: str | None = None  # set when a fetched file failed to load: a TAXII feed stops there
    finished: list[Callable[[], None]] = field(default_factory=list)  # run when every download loaded

    @property
    def url(self) -> str:
        assert self.source.url is not None
        return self.source.url

    def plan(self) -> list[str]:
        raise NotImplementedError

    def _remember(self, url: str, headers: httpx.Headers) -> None:
        """Keep a list's or manifest's validators for the next run's conditional request,
        once every file it named has loaded (else a 304 could hide one that failed)."""
        validators = {"etag": headers.get("ETag"), "last_modified": headers.get("Last-Modified")}
        self.finished.append(lambda: self.state.mark(self.source.name, f"list:{url}", None, url, **validators))

    def fetch(self) -> Iterator[Download]:
        raise NotImplementedError


class GdeltFeed(Feed):
    """A GDELT file list (`lastupdate.txt`, `masterfilelist.txt`): `size md5 url` a line;
    the event exports not fetched yet, verified by size and MD5."""

    def _items(self) -> list[tuple[str, int, str]]:
        listed = self.folder / ".list.txt"
        conditional = self.state.validators(self.source.name, self.url)
        headers = self.client.download(self.url, listed, headers=conditional)
        if headers is None:  # 304: the list has not changed since every file of it was loaded
            return []
        done = self.state.versions(self.source.name)
        since = self.source.since.strftime("%Y%m%d000000") if self.source.since else ""
        found: dict[str, tuple[str, int, str]] = {}  # a URL listed twice is fetched once
        bad, first_bad = 0, ""
        with listed.open(encoding="utf-8", errors="replace") as lines:
            for number, line in enumerate(lines, 1):
                parts = line.split()
                if not parts:
                    continue
                if len(parts) != 3 or not parts[0].isdigit() or not re.fullmatch(r"[0-9a-fA-F]{32}", parts[1]):
                    bad += 1
                    first_bad = first_bad or f"line {number}: {line.strip()[:80]!r}"
                    continue
                batch = GDELT_BATCH.search(parts[2])
                if batch and batch.group(1) >= since and parts[2] not in done:
                    found[parts[2]] = (parts[2], int(parts[0]), parts[1].lower())
        if bad and not found and not done:
            raise FetchError(f"{shown(self.url)} is not a GDELT file list (size md5 url per line): {first_bad}")
        self._remember(self.url, headers)
        return sorted(found.values(), key=lambda f: (GDELT_BATCH.search(f[0]).group(1), f[0]))  # type: ignore[union-attr]

    def plan(self) -> list[str]:
        return [f"{shown(url)} ({size:,} bytes)" for url, size, _ in self._items()]

    def fetch(self) -> Iterator[Download]:
        for url, size, md5 in self._items():
            path = self.folder / safe_name(url.rsplit("/", 1)[-1])
            self.client.download(url, path, size=size, md5=md5)
            yield Download(self.source.name, url, md5, url, path)


class MispFeed(Feed):
    """A MISP feed: `manifest.json` (event uuid -> timestamp) and `<uuid>.json` files; the
    events new or changed since they were last loaded."""

    def _items(self) -> list[tuple[str, int]]:
        """(event uuid as the manifest spells it, timestamp) of the events to fetch."""
        base = self.url.rstrip("/")
        manifest_url = f"{base}/manifest.json"
        response = self.client.get(manifest_url, headers=self.state.validators(self.source.name, manifest_url))
        if response.status_code == 304:
            return []
        try:
            manifest = response.json()
        except ValueError as exc:
            raise FetchError(f"{shown(manifest_url)} is not JSON: {exc}") from None
        if not isinstance(manifest, dict):
            raise FetchError(f"{shown(manifest_url)} is not a MISP manifest (a JSON object keyed by event uuid)")
        done = self.state.versions(self.source.name)
        found = []
        for key, meta in manifest.items():
            stamp = meta.get("timestamp") if isinstance(meta, dict) else None
            if not MISP_UUID.match(key) or not str(stamp).isdigit():
                raise FetchError(f"{shown(manifest_url)}: entry {key[:40]!r} has no event uuid and timestamp")
            if int(str(stamp)) > int(done.get(key.lower()) or -1):
                found.append((key, int(str(stamp))))
        self._remember(manifest_url, response.headers)
        return sorted(found, key=lambda f: (f[1], f[0]))

    def plan(self) -> list[str]:
        base = self.url.rstrip("/")
        return [f"{shown(base)}/{event}.json (timestamp {stamp})" for event, stamp in self._items()]

    def fetch(self) -> Iterator[Download]:
        base = self.url.rstrip("/")
        for event, stamp in self._items():
            url = f"{base}/{event}.json"
            path = self.folder / safe_name(f"{event.lower()}-{stamp}.json")
            self.client.download(url, path, check=_json_object)
            yield Download(self.source.name, event.lower(), str(stamp), url, path)


class TaxiiFeed(Feed):
    """A TAXII 2.1 collection: its objects added after the last page loaded, page by page
    (`next`, else `added_after` from X-TAXII-Date-Added-Last), each page a STIX bundle."""

    @property
    def objects_url(self) -> str:
        return f"{self.url.rstrip('/')}/collections/{self.source.collection}/objects/"

    def _added_after(self) -> str | None:
        kept = self.state.versions(self.source.name).get("added_after")
        if kept:
            return kept
        return f"{self.source.since.isoformat()}T00:00:00.000Z" if self.source.since else None

    def plan(self) -> list[str]:
        after = self._added_after()
        # one object's worth of a page says whether there is anything new, without fetching it
        envelope, _ = self._page({"limit": "1", **({"added_after": after} if after else {})})
        if not envelope.get("objects"):
            return []
        since = f"added after {after}" if after else "all objects"
        return [f"{shown(self.objects_url)}: {since}, {self.page_size} a page"]

    def _page(self, params: dict[str, str]) -> tuple[dict[str, Any], str | None]:
        response = self.client.get(self.objects_url, params=params, headers={"Accept": TAXII_TYPE})
        try:
            envelope = response.json()
        except ValueError as exc:
            raise FetchError(f"{shown(self.objects_url)}: the page is not JSON: {exc}") from None
        if not isinstance(envelope, dict) or not isinstance(envelope.get("objects", []), list):
            raise FetchError(f"{shown(self.objects_url)}: not a TAXII 2.1 envelope (an object with objects[])")
        return envelope, response.headers.get("X-TAXII-Date-Added-Last")

    def fetch(self) -> Iterator[Download]:
        """Every page of the night into one bundle, so relationships on one page and
        incidents on another still meet; the state moves on once that bundle has loaded."""
        after = newest = self._added_after()
        token: str | None = None
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        path = self.folder / safe_name(f"{self.source.collection}-{stamp}.json")
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_name(path.name + ".part")
        digest, count = hashlib.sha256(), 0
        try:
            with part.open("w", encoding="utf-8") as out:
                out.write('{"type": "bundle", "objects": [')
                for _ in range(MAX_PAGES):
                    params = {"limit": str(self.page_size)}
                    if after:
                        params["added_after"] = after
                    if token:
                        params["next"] = token
                    envelope, last = self._page(params)
                    newest = last or newest
                    for obj in envelope.get("objects") or []:
                        text = json.dumps(obj, sort_keys=True, ensure_ascii=False)
                        digest.update(text.encode())
                        out.write(("," if count else "") + "\n" + text)
                        count += 1
                    if envelope.get("more") is not True:
                        break
                    token = envelope.get("next") if isinstance(envelope.get("next"), str) else None
                    if not token:
                        if not last or last == after:
                            raise FetchError(
                                f"{shown(self.objects_url)}: the server says more but gives no next and no new "
                                "X-TAXII-Date-Added-Last to go on from"
                            )
                        after = last
                else:
                    raise FetchError(f"{shown(self.objects_url)}: more than {MAX_PAGES:,} pages")
                bundle = uuid.uuid5(uuid.NAMESPACE_URL, digest.hexdigest())
                out.write(f'\n], "id": "bundle--{bundle}"}}\n')
            if count:
                part.replace(path)
                yield Download(self.source.name, "added_after", newest, self.objects_url, path)
                if self.blocked:
                    raise FetchError(f"{path.name} did not load ({self.blocked}); the next run fetches it again")
        finally:
            part.unlink(missing_ok=True)


def safe_name(name: str) -> str:
    """A file name for the source's folder made of what a server or config said: no
    separators, no `..`, nothing hidden, so a download lands in that folder and nowhere else."""
    cleaned = _UNSAFE.sub("_", name).lstrip(".")
    return cleaned.replace("..", "_") or "_"


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
KINDS: dict[str, type[Feed]] = {"gdelt": GdeltFeed, "misp": MispFeed, "stix": TaxiiFeed}


def _json_object(path: Path) -> str | None:
    """A MISP event file must be one whole JSON object (a body cut short is not)."""
    try:
        with path.open("rb") as stream:
            data = json.load(stream)
    except (ValueError, UnicodeError) as exc:
        return f"not whole JSON ({exc})"
    return None if isinstance(data, dict) else "not a JSON object"


def open_feed(
    source: Source,
    config: Config,
    config_path: Path,
    con: duckdb.DuckDBPyConnection | None,
    folder: Path | None = None,
) -> Feed:
    """The source's feed with its credentials read now (ValueError naming a missing one)."""
    auth, headers = source.auth.resolve(config_path.parent) if source.auth else (None, {})
    f = config.fetch
    policy = Policy(f.timeout_seconds, f.download_seconds, f.retries, f.backoff_seconds, f.max_wait_seconds)
    client = Client(policy, auth, headers, origin=source.url)
    folder = folder or f.folder(config_path, source.name)
    return KINDS[source.format](source, client, folder, State(con), f.page_size)


class FeedRun:
    """The remote sources of one nightly run: their downloads as jobs, their state marked
    as each file loads, and a failed source recorded while the others go on."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        run: RunResult,
        config: Config,
        config_path: Path,
        on_failure: Callable[[FileResult], None],
    ) -> None:
        self.con, self.run, self.config, self.config_path = con, run, config, config_path
        self.on_failure = on_failure
        self.pending: dict[Path, tuple[Feed, Download]] = {}

    def jobs(self) -> Iterator[Job]:
        from ingest import formats
        from ingest.canon.times import zone

        for source in self.config.sources:
            if source.url is None:
                continue
            try:
                feed = open_feed(source, self.config, self.config_path, self.con)
            except ValueError as exc:
                self._failed(source, str(exc))
                continue
            fmt = formats.get(source.format)
            tz = zone(source.timezone) if source.timezone else None
            kept = source.filter.event_filter() if source.filter else None
            try:
                for download in feed.fetch():
                    self.pending[download.path.resolve()] = (feed, download)
                    yield Job(download.path, fmt, source.name, tz, source.encoding, kept)
                if feed.blocked is None:
                    for done in feed.finished:
                        done()
            except FetchError as exc:
                self._failed(source, exc.message)
            except OSError as exc:
                self._failed(source, f"cannot write to {feed.folder}: {exc.strerror or exc}")
            finally:
                feed.client.close()

    def on_file(self, result: FileResult) -> None:
        found = self.pending.pop(result.path.resolve(), None)
        if found is None:
            return
        feed, download = found
        if result.status == "failed":
            feed.blocked = result.error or "failed"
            return
        feed.state.mark(
            download.source,
            download.item,
            download.version,
            download.url,
            path=str(download.path.resolve()),
            file_id=result.file_id,
            run_id=self.run.run_id,
        )
        if not self.config.fetch.keep:
            download.path.unlink(missing_ok=True)

    def _failed(self, source: Source, message: str) -> None:
        from ingest.load.files import record_failure

        result = FileResult(
            Path(source.name), "failed", source.name, source.format, error=message, url=shown(source.url or "")
        )
        record_failure(self.con, result, self.run.run_id)
        self.run.files.append(result)
        self.on_failure(result)


def dry_run(config: Config, config_path: Path, con: duckdb.DuckDBPyConnection | None, source: Source) -> list[str]:
    """What the source would fetch now: its list or manifest is read (a GDELT list into a
    temporary folder), nothing is downloaded and nothing written."""
    with tempfile.TemporaryDirectory(prefix="cyberlog-dry-") as work:
        feed = open_feed(source, config, config_path, con, Path(work))
        try:
            return feed.plan()
        finally:
            feed.client.close()


__all__ = ["Download", "FeedRun", "FetchError", "State", "dry_run", "open_feed"]
