"""cyberlog: cyber incidents beside diplomatic events, in one DuckDB store."""

__version__ = "0.1.0"
