"""Deduplication: shingles and signatures, the `Sketch` columns, LSH, the visit."""
