"""Benchmarks of the hotline (not part of the app): see bench/README.md."""
