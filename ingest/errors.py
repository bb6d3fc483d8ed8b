"""Domain errors and exit codes.

Library code raises these with structured fields; only `cli.py` turns them into one
stderr line and an exit code, so every failure a user can cause has a message, not a
traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from enum import IntEnum
from pathlib import Path
from typing import NoReturn


class ExitCode(IntEnum):
    OK = 0
    BUG = 1  # an uncaught exception: a traceback, and a bug to report
    USAGE = 2  # bad command line, config, report name or param
    DATA = 3  # rejected records or unreadable files; good data still committed
    QUERY = 4  # the SQL itself failed
    BUSY = 5  # another process holds the store
    SYSTEM = 6  # the machine: disk full, store damaged
    INTERRUPTED = 130  # SIGINT (Ctrl-C): 128 + 2, as shells report it
    TERMINATED = 143  # SIGTERM: 128 + 15


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """ " (did you mean 'title'?)" when one of `choices` is close to `word` (case aside), else ""."""
    by_lower = {choice.lower(): choice for choice in choices}
    close = difflib.get_close_matches(word.lower(), by_lower, n=1, cutoff=0.6)
    return f" (did you mean {by_lower[close[0]]!r}?)" if close else ""


class CyberlogError(Exception):
    """Base of every error the CLI reports as a message."""

    exit_code = ExitCode.USAGE

    def __init__(self, message: str, *, path: Path | str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class UsageError(CyberlogError):
    exit_code = ExitCode.USAGE


class ConfigError(CyberlogError):
    exit_code = ExitCode.USAGE


class StoreBusy(CyberlogError):
    exit_code = ExitCode.BUSY


class StoreError(CyberlogError):
    """The store cannot be used: missing, written by a newer cyberlog, not a DuckDB file."""

    exit_code = ExitCode.USAGE


class MachineFault(CyberlogError):
    """The machine, not the input nor cyberlog: a full disk, a damaged store file."""

    exit_code = ExitCode.SYSTEM


class StoreDamaged(StoreError, MachineFault):
    """The store file is damaged (truncated, blocks that fail their checksum), found on
    opening it or by a query that reads a damaged block."""

    exit_code = ExitCode.SYSTEM


class QueryError(CyberlogError):
    exit_code = ExitCode.QUERY


class FileUnreadable(CyberlogError):
    """A whole input file cannot be read; the run records it and goes on."""

    exit_code = ExitCode.DATA


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where SIGINT raises KeyboardInterrupt, so that both unwind the same way
    (a file's transaction rolled back, the run recorded) and no `except Exception` swallows it."""


_SIGTERMS: list[int] = []  # since the command began: see `terminate`


def terminate(signum: int, frame: object) -> NoReturn:
    """The command line's SIGTERM handler. Inside a DuckDB statement, DuckDB stops the statement
    for the handler's exception and raises its own error in its place, without it: so the
    signal is also remembered, for `stopped_statement` to tell SIGTERM from Ctrl-C."""
    _SIGTERMS.append(signum)
    raise Terminated


def forget_signals() -> None:
    """A new command (main run in-process again, as tests do) starts with none received."""
    _SIGTERMS.clear()


def stopped_statement() -> KeyboardInterrupt:
    """What stopped a DuckDB statement that raised "interrupted": SIGTERM if one came, else Ctrl-C."""
    return Terminated() if _SIGTERMS else KeyboardInterrupt()


class Interrupted(CyberlogError):
    """A run stopped by SIGINT or SIGTERM, after its file was rolled back and its row recorded."""

    def __init__(self, message: str, exit_code: ExitCode) -> None:
        super().__init__(message)
        self.exit_code = exit_code
