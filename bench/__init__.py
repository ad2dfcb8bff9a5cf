"""Benchmarks at scale beside their raw baselines (docs/PERFORMANCE.md)."""
