"""Answers: canned reports with typed params, writers by registry, the self-contained page."""
