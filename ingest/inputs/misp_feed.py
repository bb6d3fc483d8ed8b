"""A MISP feed folder (manifest.json beside one `<uuid>.json` file an event): which event
files it stands for, or why it cannot be followed. Read before any format is needed, so a
nightly that finds the folder's files already loaded imports no parsing machinery."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from ingest.errors import FileUnreadable
from ingest.inputs.guard import open_regular

UUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


def feed_files(folder: Path) -> list[Path]:
    """A MISP feed folder's event files, in the manifest's order (oldest change first).

    An event the manifest lists but the folder lacks becomes a missing file, so the run
    records it as failed. A manifest that cannot be trusted (not JSON, not an object, a key
    that is not an event uuid, a file that leads outside the folder) stands in for the
    folder as one failed file saying why (`manifest_problem`): no event file is read.
    `hashes.csv` is a lookup aid for values and is not read.
    """
    listed, problem = _manifest(folder)
    if problem:
        return [folder / MANIFEST]
    return [folder / f"{uuid}.json" for uuid in listed]


def expand(path: Path) -> list[Path]:
    """The files behind a path: a MISP feed folder (with manifest.json) is its event files;
    anything else is itself."""
    if path.is_dir() and (path / MANIFEST).is_file():
        return feed_files(path)
    return [path]


MANIFEST = "manifest.json"
MAX_MANIFEST_BYTES = 64 << 20  # read whole: a manifest lists ~160 bytes an event


def _inside(path: Path, root: Path) -> bool:
    """Whether `path`, its symbolic links followed, is in the folder `root`; a symlink loop
    counts as inside (it is read nowhere: its own load fails saying so)."""
    try:
        return path.resolve().is_relative_to(root)
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop before Python 3.13
        return True


def manifest_problem(path: Path) -> str | None:
    """Why `path`, a feed folder's manifest.json, cannot be followed; None when it can."""
    return _manifest(path.parent)[1] if path.name == MANIFEST else None


def _manifest(folder: Path) -> tuple[list[str], str | None]:
    """The event uuids a feed folder's manifest lists, oldest change first, or why not."""
    if not _inside(folder / MANIFEST, folder.resolve()):
        return [], f"{MANIFEST} leads outside the feed folder (a symbolic link): the feed folder is not read"
    try:
        with open_regular(folder / MANIFEST) as stream:
            size = os.fstat(stream.fileno()).st_size
            if size > MAX_MANIFEST_BYTES:
                return [], (
                    f"{MANIFEST} is {size:,} bytes, more than the {MAX_MANIFEST_BYTES:,} a MISP manifest may be "
                    "(about 400,000 events): the feed folder is not read"
                )
            manifest = json.load(stream)
    except FileUnreadable as exc:
        return [], f"{MANIFEST} {exc.message}"
    except RecursionError:
        return [], f"{MANIFEST} is not a MISP manifest (JSON nested too deep): the feed folder is not read"
    except (ValueError, UnicodeError) as exc:
        return [], f"{MANIFEST} is not JSON ({exc}): the feed folder is not read"
    if not isinstance(manifest, dict):
        return [], f"{MANIFEST} is not a MISP manifest (a JSON object keyed by event uuid): the feed folder is not read"
    root, stamps = folder.resolve(), {}
    for key, meta in manifest.items():
        stamp = meta.get("timestamp", 0) if isinstance(meta, dict) else None
        if not re.fullmatch(UUID, key) or not str(stamp).isdigit():
            return [], f"{MANIFEST}: entry {key[:60]!r} has no event uuid and timestamp: the feed folder is not read"
        if not _inside(folder / f"{key}.json", root):
            return [], f"{key}.json leads outside the feed folder (a symbolic link): the feed folder is not read"
        stamps[key] = int(str(stamp))
    return sorted(stamps, key=lambda uuid: (stamps[uuid], uuid)), None
