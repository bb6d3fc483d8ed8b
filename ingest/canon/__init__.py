"""The canonical shapes and vocabularies, defined once: records, times, countries, names."""
