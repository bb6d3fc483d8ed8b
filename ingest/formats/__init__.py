"""The registry of input formats: the only place that lists them.

Adding a format is one module beside this file, one line here, and a good and a bad
fixture under fixtures/<name>/.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from ingest.errors import FileUnreadable, UsageError, did_you_mean
from ingest.formats.base import Format, HeaderSniff
from ingest.inputs import misp_feed
from ingest.inputs.readers import peek

# format name -> its module beside this file. A format's module is imported when the format
# is first asked for: a nightly with nothing new, or a run of one format, imports only what
# it uses (all twenty cost a fifth of a second to import).
MODULES: dict[str, str] = {
    "incidents_csv": "incidents_csv",
    "events_csv": "events_csv",
    "stix": "stix",
    "misp": "misp",
    "veris": "veris",
    "cfr_tracker": "cfr",
    "eurepoc": "eurepoc",
    "gdelt": "gdelt",
    "icews": "icews",
    "acled": "acled",
    "eve": "eve",
    "ecs": "ecs",
    "ocsf": "ocsf",
    "cef": "cef",
    "polecat": "polecat",
    "viina": "viina",
    "ucdp_ged": "ucdp_ged",
    "cissm": "cissm",
    "dcid": "dcid",
    "ddosia": "ddosia",
}
_REGISTRY: dict[str, Format] = {}  # the formats imported so far


SNIFF_BYTES = 64 * 1024


def names() -> list[str]:
    return sorted(MODULES)


def get(name: str) -> Format:
    if name not in _REGISTRY:
        if name not in MODULES:
            raise UsageError(unknown(name))
        fmt = importlib.import_module(f"ingest.formats.{MODULES[name]}").FORMAT
        assert fmt.name == name, f"ingest/formats/{MODULES[name]}.py defines {fmt.name}, not {name}"
        _REGISTRY[name] = fmt
    return _REGISTRY[name]


def unknown(name: str) -> str:
    """What a format name no format has gets told: the close one, and every one there is."""
    return f"unknown format {name!r}{did_you_mean(name, names())}: use one of {', '.join(names())}"


def all_formats() -> list[Format]:
    return [get(name) for name in names()]


def detect(path: Path) -> Format:
    """The one format whose sniffer accepts the file's first bytes."""
    if problem := misp_feed.manifest_problem(path):  # a MISP feed folder that cannot be followed
        raise FileUnreadable(problem, path=path)
    head = peek(path, SNIFF_BYTES)
    if not head:
        raise FileUnreadable("file is empty (0 bytes)", path=path)
    head = _as_utf8(head)
    matches = [fmt for fmt in all_formats() if fmt.sniff(head)]
    if len(matches) != 1:
        found = "no format recognises it" if not matches else "several formats match"
        raise FileUnreadable(
            f"cannot tell the file's format ({found}): use --format, one of {', '.join(names())}"
            + ("" if matches else _nearest_header(head)),
            path=path,
        )
    return matches[0]


def _nearest_header(head: bytes) -> str:
    """For a CSV no format takes: the format whose columns its header names most, and what
    is wrong with the header as that format's (a misspelt column, a missing one)."""
    near = [
        (found, fmt.name)
        for fmt in all_formats()
        if isinstance(fmt.sniff, HeaderSniff) and (found := fmt.sniff.near(head)) is not None
    ]
    if not near:
        return ""
    (_, problem), name = max(near, key=lambda item: item[0][0])
    return f". Its header is nearest {name}'s: {problem}"


def _as_utf8(head: bytes) -> bytes:
    """The first bytes as the sniffers expect them: UTF-8 without a BOM. UTF-16 is told
    by its BOM, or by a NUL beside the first ASCII character."""
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        codec = "utf-16"
    elif len(head) >= 2 and (head[0] == 0) != (head[1] == 0):
        codec = "utf-16-be" if head[0] == 0 else "utf-16-le"
    else:
        return head.removeprefix(b"\xef\xbb\xbf")
    return head[: len(head) // 2 * 2].decode(codec, "ignore").encode("utf-8")
