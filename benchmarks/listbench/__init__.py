"""Support modules of ``benchmarks/instance_list_bench.py`` (its own settings and URLconf; never production)."""
