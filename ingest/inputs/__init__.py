"""Reading input bytes: encodings, lines, archives, with where each record came from. No database."""
