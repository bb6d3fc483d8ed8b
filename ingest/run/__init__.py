"""A run of `cyberlog ingest` or `nightly`: its jobs, config and exit decision."""
