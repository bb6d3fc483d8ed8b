"""The registry of input formats: the only place that lists them.

Adding a format is one module beside this file, one line here, and a good and a bad
fixture under fixtures/<name>/.
"""

from __future__ import annotations

from pathlib import Path

from ingest.errors import FileUnreadable, UsageError, did_you_mean
from ingest.formats import (
    acled,
    cef,
    cfr,
    cissm,
    dcid,
    ddosia,
    ecs,
    eurepoc,
    eve,
    events_csv,
    gdelt,
    icews,
    incidents_csv,
    misp,
    ocsf,
    polecat,
    stix,
    ucdp_ged,
    veris,
    viina,
)
from ingest.formats.base import Format, HeaderSniff
from ingest.inputs.readers import peek

_REGISTRY: dict[str, Format] = {
    fmt.name: fmt
    for fmt in (
        incidents_csv.FORMAT,
        events_csv.FORMAT,
        stix.FORMAT,
        misp.FORMAT,
        veris.FORMAT,
        cfr.FORMAT,
        eurepoc.FORMAT,
        gdelt.FORMAT,
        icews.FORMAT,
        acled.FORMAT,
        eve.FORMAT,
        ecs.FORMAT,
        ocsf.FORMAT,
        cef.FORMAT,
        polecat.FORMAT,
        viina.FORMAT,
        ucdp_ged.FORMAT,
        cissm.FORMAT,
        dcid.FORMAT,
        ddosia.FORMAT,
    )
}

SNIFF_BYTES = 64 * 1024


def names() -> list[str]:
    return sorted(_REGISTRY)


def get(name: str) -> Format:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UsageError(unknown(name)) from None


def unknown(name: str) -> str:
    """What a format name no format has gets told: the close one, and every one there is."""
    return f"unknown format {name!r}{did_you_mean(name, names())}: use one of {', '.join(names())}"


def all_formats() -> list[Format]:
    return [_REGISTRY[name] for name in names()]


def detect(path: Path) -> Format:
    """The one format whose sniffer accepts the file's first bytes."""
    if problem := misp.manifest_problem(path):  # a MISP feed folder that cannot be followed
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


def expand(path: Path) -> list[Path]:
    """The files behind a path: a MISP feed folder (with manifest.json) is its event files."""
    if path.is_dir() and (path / "manifest.json").is_file():
        return misp.feed_files(path)
    return [path]
