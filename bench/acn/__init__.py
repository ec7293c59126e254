"""panelpilot against Caltech's ACN-Sim (issue 14): event sets, the offline optimum, metrics.

`events`, `optimum` and `metrics` need only numpy and scipy; `adapter` and `runner` import
acnportal (the optional extra `acn`: `pip install -e '.[acn]'`). `bench/bench_acn.py` runs it
all and writes the table (docs/performance.md, "Against ACN-Sim").
"""
