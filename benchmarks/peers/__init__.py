"""Other tools' dedup pipelines, run by the benchmarks in their own virtual environments."""
