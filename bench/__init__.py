"""Benchmarks, run by hand against PostgreSQL; see docs/benchmarks.md."""
