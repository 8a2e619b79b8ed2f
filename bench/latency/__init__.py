"""The latency section: per-step latency at batch 1 against the peers and the
floor, plus call overhead, run(X) against steps and cold caches; its goals,
table and plot."""
