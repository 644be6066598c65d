"""The corpus on disk: writing and committing runs, the dedup index, checking and repair."""
