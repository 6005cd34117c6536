"""Support of ``benchmarks/vmcl_bench.py``."""
