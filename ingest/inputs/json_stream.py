"""JSON documents read as a stream of parser events, each record built under bounds.

ijson's own `items` builds a value before anyone can look at it, so a 100,000-deep array
costs gigabytes first (the parser's path to each event grows with the depth). Here the
values are built from `ijson.basic_parse` events, and a record nested deeper than
MAX_DEPTH, holding a key twice, or holding a lone UTF-16 surrogate is a problem of that
record alone: its remaining events are skipped, and the records after it still read. A
document that is malformed or cut short raises `FileUnreadable`, so nothing of it loads.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import ijson

from ingest.errors import FileUnreadable

MAX_DEPTH = 100  # JSON nesting one record may have; real STIX, MISP and VERIS stay under 15
LONE = "\uffff"  # what a lone surrogate escape is read as: a noncharacter, never real text
_ESCAPES = re.compile(
    rb"(\\+)u([dD][89abAB][0-9a-fA-F]{2})(\\u[dD][c-fC-F][0-9a-fA-F]{2})?|(\\+)u[dD][c-fC-F][0-9a-fA-F]{2}"
)
_ESCAPE_BYTES = b"\\u0123456789abcdefABCDEF"  # what a surrogate escape, or a run of them, is made of
_STARTS = ("start_map", "start_array")
_ENDS = ("end_map", "end_array")


class _Surrogates(io.RawIOBase):
    """The bytes of a JSON document with each lone surrogate escape (`\\ud800` not followed
    by a low surrogate, or a low one alone) written as `\\uffff`. The C parser would turn
    a lone high surrogate into '?' or merge it with the next character, and fail the whole
    file on a lone low one; marked, the string's record is rejected instead."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream, self._pending, self._held, self.seen = stream, b"", b"", False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            chunk = self._stream.read(1 << 16)
            data = self._held + chunk
            if chunk:  # an escape (or a pair) may go on in the next chunk: hold back its bytes
                cut = len(data.rstrip(_ESCAPE_BYTES))
                data, self._held = data[:cut], data[cut:]
            else:
                self._held = b""
            surrogates = b"\\ud" in data or b"\\uD" in data  # rare: the regex only runs then
            self._pending = _ESCAPES.sub(self._mark, data) if surrogates else data
            if not chunk:
                break
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def _mark(self, match: re.Match[bytes]) -> bytes:
        slashes = match[1] or match[4]
        if len(slashes) % 2 == 0:  # an escaped backslash, then letters: only a low escape after it counts
            if not match[3]:
                return match[0]
            self.seen = True
            return slashes + b"u" + match[2] + b"\\uffff"
        if match[3]:  # a proper pair
            return match[0]
        self.seen = True
        return slashes + b"uffff"


def _step(key: object) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


class JsonDocument:
    """The events of one JSON document; `value` builds one record from them."""

    def __init__(self, stream: BinaryIO, path: Path, limit: int = MAX_DEPTH) -> None:
        self._marks = _Surrogates(stream)
        self._events = ijson.basic_parse(io.BufferedReader(self._marks), use_float=True)
        self.path, self.limit, self.at = path, limit, ""

    def next(self) -> tuple[str, Any]:
        """The next parser event; a malformed or cut-short document fails the file."""
        try:
            event: tuple[str, Any] = next(self._events)
        except StopIteration:
            raise self._fail("the document ends early") from None
        except ijson.JSONError as exc:
            raise self._fail(json_problem(exc).removeprefix("malformed JSON: ")) from None
        return event

    def _fail(self, why: str) -> FileUnreadable:
        where = f" (in the record at {self.at})" if self.at else ""
        return FileUnreadable(f"malformed JSON{where}: {why}; nothing of the file was loaded", path=self.path)

    def end(self) -> None:
        """The document has ended: anything after its value fails the file."""
        try:
            event = next(self._events, None)
        except ijson.JSONError as exc:
            raise self._fail(json_problem(exc).removeprefix("malformed JSON: ")) from None
        if event is not None:
            raise self._fail("more than one JSON value")

    def items(self, pointer: str) -> Iterator[tuple[str, Any, str | None]]:
        """(pointer, value, problem) for each element of the array just started."""
        index = 0
        while True:
            event, scalar = self.next()
            if event == "end_array":
                return
            at = f"{pointer}/{index}"
            yield at, *self.value(event, scalar, at)
            index += 1

    def records(self, refusal: str) -> Iterator[tuple[str, Any, str | None]]:
        """(pointer, value, problem) for each element of a top-level array, or the one
        top-level object (pointer ""); any other document fails the file with `refusal`,
        its `{kind}` filled with what the document is."""
        event, scalar = self.next()
        if event == "start_array":
            yield from self.items("")
        elif event == "start_map":
            yield "", *self.value(event, scalar, "")
        else:
            raise FileUnreadable(refusal.format(kind=top_kind(event)), path=self.path)

    def skip(self, depth: int = 1) -> None:
        """Read past the rest of a value `depth` containers deep, building nothing."""
        while depth:
            event, _ = self.next()
            depth += 1 if event in _STARTS else -1 if event in _ENDS else 0

    def given_twice(self, key: str, event: str, pointer: str) -> str:
        """A key given again in an object whose members the caller reads one by one: the
        key's value and the rest of the object are read past, and the reject says this."""
        self.skip(2 if event in _STARTS else 1)
        return _twice(key, pointer or "/")

    def value(self, event: str, scalar: Any, pointer: str) -> tuple[Any, str | None]:
        """The value that `event` starts, or (None, why not) with its remaining events read."""
        self.at = pointer
        if event not in _STARTS:
            bad = self._bad_text(scalar)
            return (None, f"the string at {pointer or '/'} {bad}") if bad else (scalar, None)
        return self.rest({} if event == "start_map" else [], pointer)

    def rest(self, root: dict[str, Any] | list[Any], pointer: str) -> tuple[Any, str | None]:
        """The rest of a container whose start, and maybe first members (in `root`), the
        caller read: `root` with the others, or (None, why not) with its events read."""
        try:
            return self._build(root, pointer)
        except ijson.JSONError as exc:
            raise self._fail(json_problem(exc).removeprefix("malformed JSON: ")) from None

    def _build(self, root: Any, pointer: str) -> tuple[Any, str | None]:
        """The hot loop of reading (every event of every record passes here): locals, no calls."""
        stack: list[Any] = [root]
        keys: list[Any] = []  # each open container's key in its parent; `key` is the innermost's
        top, key, limit, marks = root, None, self.limit, self._marks
        for event, scalar in self._events:
            if event == "map_key":
                if scalar in top:
                    return self._refuse(stack, _twice(scalar, _path(pointer, stack, [*keys, key], 1) or "/"))
                key = scalar
                continue
            if event == "string":
                if "\x00" in scalar or (marks.seen and LONE in scalar):
                    why = self._bad_text(scalar)
                    return self._refuse(stack, f"the string at {_path(pointer, stack, [*keys, key])} {why}")
            elif event == "end_map" or event == "end_array":
                stack.pop()
                if not stack:
                    self.at = ""
                    return root, None
                top, key = stack[-1], keys.pop()
                continue
            elif event == "start_map" or event == "start_array":
                if len(stack) >= limit:
                    self.skip()
                    where = _path(pointer, stack, [*keys, key], 1, 3) + "/…"
                    return self._refuse(stack, f"JSON nested deeper than {limit} levels (at {where})")
                child: Any = {} if event == "start_map" else []
                if top.__class__ is list:
                    top.append(child)
                else:
                    top[key] = child
                stack.append(child)
                keys.append(key)
                top, key = child, None
                continue
            if top.__class__ is list:  # a string, number, boolean or null
                top.append(scalar)
            else:
                top[key] = scalar
        raise self._fail("the document ends early")

    def _refuse(self, stack: list[Any], why: str) -> tuple[None, str]:
        self.skip(len(stack))
        self.at = ""
        return None, why

    def _bad_text(self, scalar: Any) -> str | None:
        """Why a string cannot be taken as text: a NUL (`\\u0000`: binary data, never a
        name or a date) or a lone surrogate."""
        if not isinstance(scalar, str):
            return None
        if "\x00" in scalar:
            return "holds a NUL character (\\u0000)"
        if self._marks.seen and LONE in scalar:
            return "holds a lone UTF-16 surrogate escape (such as \\ud800): not valid Unicode"
        return None


def _twice(key: str, where: str) -> str:
    return f"the key {key!r} is given twice in the object at {where}"


def _path(pointer: str, stack: list[Any], keys: list[Any], drop: int = 0, most: int | None = None) -> str:
    """The JSON pointer of the value being read inside `stack` (each container's current
    key, or the index of its last element; the innermost list's next index), without the
    innermost `drop` steps, and of at most `most` steps."""
    last = len(stack) - 1
    parts = [
        _step(key if isinstance(c, dict) else len(c) - (0 if i == last else 1))
        for i, (c, key) in enumerate(zip(stack, keys, strict=True))
    ]
    return pointer + "".join(f"/{p}" for p in parts[: len(parts) - drop][:most])


def json_problem(exc: Exception) -> str:
    """The JSON parser's complaint on one line ("malformed JSON: parse error: premature EOF")."""
    text = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
    first = next((line.strip() for line in text.splitlines() if line.strip()), type(exc).__name__)
    if "invalid bytes in UTF8" in first:
        hint = "pass --encoding (e.g. --encoding cp1252) or set encoding in cyberlog.toml"
        return f"malformed JSON: {first.rstrip('.')}: {hint}"
    return f"malformed JSON: {first}"


def kind(value: Any) -> str:
    """What a JSON value is, in words: 'an array', 'null'."""
    names = {list: "an array", dict: "an object", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


def top_kind(event: str) -> str:
    """What a document's top-level value is, from its first event."""
    return {"start_map": "an object", "start_array": "an array", "null": "null", "boolean": "a boolean"}.get(
        event, "a string" if event == "string" else "a number"
    )
