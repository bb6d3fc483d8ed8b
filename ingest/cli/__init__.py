"""The `cyberlog` command. The only part that prints or knows about typer: each command
module parses, calls the library and prints; none runs SQL.

stdout is data (query results, reports, `--json` summaries); stderr is diagnostics.
Every `CyberlogError` becomes one `cyberlog: error: ...` line and its exit code.
"""

from __future__ import annotations

import importlib
import logging
import os
import signal
import sys
from contextlib import suppress
from typing import Annotated, Any, NoReturn

import duckdb
import typer

from ingest import __version__
from ingest.cli.common import LOG, LogFormat, say
from ingest.errors import (
    CyberlogError,
    ExitCode,
    Interrupted,
    Terminated,
    forget_signals,
    stopped_statement,
    terminate,
)
from ingest.store import damage, interrupted_query

# The parsing machinery (pydantic, Arrow, the formats) is imported by the commands that
# use it, so a nightly run with nothing new, or a query, starts in a fraction of a second.

# The command modules under ingest.cli, in their order in `cyberlog --help` (the commands,
# then the groups), each with its group's name (None: its commands are top-level).
MODULES: dict[str, str | None] = {
    "run": None,  # ingest, nightly, init, formats
    "query": None,  # query, export
    "status": None,
    "report": "report",
    "clusters": "clusters",
    "rejects": "rejects",
    "serve": None,
}
# Which module holds each command. A command line names one: only that module is imported
# and only its commands are built. typer builds every command's options from its signature
# as it starts (half the commands' modules and 40 functions' signatures, 20-30 ms), which a
# skipped file or a nightly with nothing new would otherwise pay for commands it never runs.
COMMANDS = {
    "ingest": "run",
    "nightly": "run",
    "init": "run",
    "formats": "run",
    "query": "query",
    "export": "query",
    "status": "status",
    "report": "report",
    "clusters": "clusters",
    "rejects": "rejects",
    "serve": "serve",
}
# the root options, which come before the command (--version ends the command line)
_ROOT_FLAGS = frozenset({"-q", "--quiet", "-v", "--verbose"})
_ROOT_VALUED = "--log-format"


def build(only: str | None = None) -> typer.Typer:
    """The command line: every command, or those of the one module `only` names."""
    app = typer.Typer(
        name="cyberlog",
        help="Cyber incidents beside diplomatic events, in one DuckDB store, with canned reports.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=True,
        rich_markup_mode=None,  # help texts say "[default: ...]" literally
    )
    app.callback()(_root)
    for module, group in MODULES.items():
        if only in (None, module):
            app.add_typer(importlib.import_module(f"ingest.cli.{module}").app, name=group)
    return app


def module_for(args: list[str]) -> str | None:
    """The module of the command these arguments run; None (build them all) for --help,
    --version, a shell's completion, a command cyberlog does not have, or anything unsure."""
    if any(name.endswith("_COMPLETE") for name in os.environ):  # typer's completion: every command
        return None
    given = iter(args)
    for arg in given:
        if arg in _ROOT_FLAGS or arg.startswith(f"{_ROOT_VALUED}="):
            continue
        if arg == _ROOT_VALUED:
            next(given, None)
            continue
        return COMMANDS.get(arg)
    return None


def __getattr__(name: str) -> Any:  # PEP 562: `ingest.cli.app`, every command (the docs, the reference)
    if name == "app":
        return build()
    raise AttributeError(f"module 'ingest.cli' has no attribute {name!r}")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"cyberlog {__version__} (duckdb {duckdb.__version__})")
        raise typer.Exit


def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only warnings and errors on stderr.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Every rejected record, not the first few.")] = False,
    log_format: Annotated[
        LogFormat,
        typer.Option("--log-format", envvar="CYBERLOG_LOG_FORMAT", help="stderr as text, or one JSON object a line."),
    ] = LogFormat.text,
) -> None:
    """cyberlog: which cyber attacks cluster around which diplomatic moves, and is that more than chance?"""
    LOG.quiet, LOG.verbose, LOG.format = quiet, verbose, log_format


def _closed_stdout() -> NoReturn:
    """stdout's reader went away (`| head -1`): it had what it wanted, so end quietly with 0.
    stdout goes to devnull first, so the flush at exit cannot fail again (the Python docs' recipe)."""
    with suppress(OSError, ValueError):  # no real stdout (a test's StringIO): nothing left to flush
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    sys.exit(int(ExitCode.OK))


def _stopped_by(signal_: BaseException | None) -> NoReturn:
    """A signal outside a run: 143 when it was SIGTERM (its handler's Terminated), else 130."""
    code = ExitCode.TERMINATED if isinstance(signal_, Terminated) else ExitCode.INTERRUPTED
    say(f"{'terminated' if code == ExitCode.TERMINATED else 'interrupted'}: stopped before it finished", "error")
    sys.exit(int(code))


def _exit_if_interrupted(exc: SystemExit) -> None:
    """Ctrl-C or SIGTERM outside a run (a query, a report, a wait for the store): typer ends it
    silently with 130 whatever the signal (older typers: click's "Aborted!" and 1, the code of
    a bug); say what happened and exit 130 or 143."""
    ended = exc.__context__
    signal_ = ended.__cause__ if ended is not None else None
    if exc.code in (1, 130) and isinstance(signal_, KeyboardInterrupt):
        _stopped_by(signal_)


class _Said(logging.Handler):
    """The library's notices (logger "cyberlog": reading the snapshot, ...) said as notes."""

    def emit(self, record: logging.LogRecord) -> None:
        say(f"note: {record.getMessage()}")


def main() -> None:
    forget_signals()
    previous = signal.signal(signal.SIGTERM, terminate)  # unwinds like Ctrl-C: a run records 143
    notices = logging.getLogger("cyberlog")
    said, notices.propagate = _Said(), False  # said as the CLI says things, not by logging's defaults
    notices.addHandler(said)
    try:
        build(module_for(sys.argv[1:]))()
    except Interrupted as exc:  # a run stopped by SIGINT or SIGTERM, recorded as 130 or 143
        say(str(exc), "error")
        sys.exit(int(exc.exit_code))
    except CyberlogError as exc:
        say(f"error: {exc}", "error")
        sys.exit(int(exc.exit_code))
    except BrokenPipeError:
        _closed_stdout()
    except (duckdb.Error, RuntimeError) as exc:
        if interrupted_query(exc):  # Ctrl-C inside a statement of a query or a report
            _stopped_by(stopped_statement())
        # any command reading a damaged block of the store: exit 6, not a bug
        damaged = damage(exc) if isinstance(exc, duckdb.Error) else None
        if damaged is None:
            raise
        say(f"error: {damaged}", "error")
        sys.exit(int(damaged.exit_code))
    except SystemExit as exc:
        if isinstance(exc.__context__, BrokenPipeError):  # click ends a closed stdout as exit 1
            _closed_stdout()
        _exit_if_interrupted(exc)
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)  # as it was, for a caller that runs main in-process
        notices.removeHandler(said)
        notices.propagate = True
