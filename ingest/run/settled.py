"""A cyberlog.toml validated before, read back without validating it again.

Validating a config imports pydantic and builds its models: about 90 ms, half of what a
nightly with nothing new costs. So once a config of local sources has been validated, the
nightly keeps what it came to (the sources, the rules, the reject limit) beside the store,
in `<store>.nightly.json`, under a digest of the config's bytes, of cyberlog's version and
of the code that validates. The next nightly whose config has that digest reads it back and
validates nothing. Any other config, one with a remote source, or an entry missing, damaged
or of another digest: validated as usual, and the entry written again.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ingest import __version__
from ingest.canon.filters import EventFilter
from ingest.derive.bursts import BurstSettings
from ingest.derive.clusters import IdentitySettings
from ingest.errors import ConfigError
from ingest.inputs import misp_feed
from ingest.store import resolve_db

# the code whose rules a kept entry follows: a change to either is another digest
_VALIDATORS = (Path(__file__).with_name("config.py"), Path(__file__))
MAX_KEPT_BYTES = 16 << 20  # a config of thousands of sources is a few hundred KB: more is not ours


@dataclass(frozen=True)
class LocalSource:
    """A source of local files, as its validated `[[sources]]` table says."""

    name: str
    path: str  # a glob, relative to the config's folder
    format: str
    timezone: str | None
    encoding: str
    filter: EventFilter | None


@dataclass(frozen=True)
class Settled:
    """What a validated config of local sources comes to: all a nightly needs of it."""

    max_rejects: int
    identity: IdentitySettings
    bursts: BurstSettings
    sources: tuple[LocalSource, ...]


def kept_at(db: Path | None) -> Path:
    """`<store>.nightly.json`, beside the store."""
    store = resolve_db(db)
    return store.with_name(store.name + ".nightly.json")


def digest(text: bytes) -> str | None:
    """The key of a config's entry; None when the validating code cannot be read (nothing kept)."""
    code = _code()
    return None if code is None else hashlib.sha256(text + b"\0" + code).hexdigest()


@functools.cache
def _code() -> bytes | None:
    """cyberlog's version and a digest of the validating code, read once a process (a
    nightly asks twice when it checks the config: to recall, then to remember)."""
    found = hashlib.sha256(__version__.encode())
    try:
        for module in _VALIDATORS:
            found.update(b"\0" + module.read_bytes())
    except OSError:
        return None
    return found.digest()


def recall(text: bytes, db: Path | None) -> Settled | None:
    """The config with these bytes as validated before, or None."""
    key = digest(text)
    try:
        with kept_at(db).open("rb") as stream:
            found = stream.read(MAX_KEPT_BYTES + 1)
        if key is None or len(found) > MAX_KEPT_BYTES:
            return None
        kept = json.loads(found)
        return _settled(kept["settled"]) if kept["digest"] == key else None
    except (OSError, ValueError, KeyError, TypeError, RecursionError):  # none kept, or not what this code writes
        return None


def remember(text: bytes, db: Path | None, settled: Settled) -> None:
    """Keep a validated config for the next nightly; a store folder that cannot take it
    only means the next nightly validates again."""
    key = digest(text)
    if key is None:
        return
    path = kept_at(db)
    part = path.with_name(f"{path.name}.{os.getpid()}.part")
    try:
        part.write_text(json.dumps({"digest": key, "settled": asdict(settled)}), "utf-8")
        part.replace(path)
    except OSError:
        part.unlink(missing_ok=True)


def _settled(data: dict[str, Any]) -> Settled:
    """A Settled from its JSON (lists back to tuples); KeyError or TypeError when it is not one."""
    bursts = data["bursts"]
    return Settled(
        int(data["max_rejects"]),
        IdentitySettings(**data["identity"]),
        BurstSettings(**{**bursts, "categories": tuple(bursts["categories"])}),
        tuple(_source(source) for source in data["sources"]),
    )


def _source(data: dict[str, Any]) -> LocalSource:
    kept: dict[str, Any] | None = data["filter"]
    found = None
    if kept is not None:
        parts: dict[str, Any] = {name: tuple(v) if isinstance(v, list) else v for name, v in kept.items()}
        found = EventFilter(**parts)
    return LocalSource(**{**data, "filter": found})


def source_files(config_path: Path, source: LocalSource) -> list[Path]:
    """The files a source's glob matches, relative to the config, in name order."""
    base = config_path.parent
    pattern = Path(source.path)
    if pattern.is_absolute():
        base, pattern = Path(pattern.anchor), pattern.relative_to(pattern.anchor)
    try:
        matches = sorted(base.glob(str(pattern)), key=_parts)
    except (ValueError, NotImplementedError) as exc:
        raise ConfigError(
            f"source {source.name}: path {source.path!r} is not a usable glob ({exc})", path=config_path
        ) from None
    # a MISP feed folder stands for its event files; other folders are not inputs. Anything
    # else matched (a FIFO, a device, a symlink loop) is kept, so its load fails saying what it is
    files: list[Path] = []
    for path in matches:
        if not path.is_dir():  # one stat for a file: a folder of thousands
            files.append(path)
        elif (found := misp_feed.expand(path)) != [path]:
            files += found
    return files


def _parts(path: Path) -> tuple[str, ...]:
    """Path order (part by part) at the cost of comparing tuples: a folder of thousands."""
    return path.parts
