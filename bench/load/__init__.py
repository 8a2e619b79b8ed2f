"""Load-time and memory benchmarks."""
