"""Benchmarks: scripts that print one JSON line per result (see README.md)."""
