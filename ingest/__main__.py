"""`python -m ingest` runs the same CLI as the `cyberlog` command.

`cyberlog --version` is answered here, before typer, DuckDB and the commands are imported:
a script that checks the version pays for starting Python, not for loading the tool.

A finished command ends with `os._exit` once the exit handlers have run and stdout and
stderr are flushed: the interpreter's teardown (clearing a few hundred modules, DuckDB's
and pydantic's among them) does nothing a finished command needs and cost a skipped file
20 ms, a nightly with nothing new 40 ms. A traceback, or a thread still running, takes
the ordinary road.
"""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        from importlib.metadata import PackageNotFoundError, version

        from ingest import __version__

        try:
            duckdb = version("duckdb")
        except PackageNotFoundError:  # not installed as a distribution: ask the module itself
            import duckdb as module

            duckdb = module.__version__
        print(f"cyberlog {__version__} (duckdb {duckdb})")
        return
    from ingest.cli import main as cli

    try:
        cli()
    except SystemExit as exc:
        _leave(exc.code)
    _leave(0)


def _leave(code: str | int | None) -> None:
    """Exit with `code` as `sys.exit` would, without the interpreter's teardown."""
    import atexit
    import os
    import threading
    from contextlib import suppress

    if threading.active_count() > 1:  # a thread the command left running: wait for it as usual
        sys.exit(code)
    if code is not None and not isinstance(code, int):  # sys.exit("message"): said, then 1
        print(code, file=sys.stderr)
        code = 1
    atexit._run_exitfuncs()  # logging's flush, finalizers of temporary folders
    try:
        sys.stdout.flush()
    except BrokenPipeError:  # stdout's reader went away: it had what it wanted (see ingest.cli)
        code = 0
    except (OSError, ValueError):  # stdout closed or gone: nothing to flush
        pass
    with suppress(OSError, ValueError):
        sys.stderr.flush()
    os._exit(code or 0)


if __name__ == "__main__":
    main()
