"""`python -m ingest` runs the same CLI as the `cyberlog` command."""

from ingest.cli import main

main()
