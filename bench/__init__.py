"""Benchmarks of ics2conf: plan cost, API economy and sync throughput (``python -m bench.run``)."""
