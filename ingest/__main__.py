"""`python -m ingest` runs the same CLI as the `cyberlog` command.

`cyberlog --version` is answered here, before typer, DuckDB and the commands are imported:
a script that checks the version pays for starting Python, not for loading the tool.
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

    cli()


if __name__ == "__main__":
    main()
