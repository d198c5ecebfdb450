"""The maintainer's tools: installs, the offline wrapper, repeat rounds, the newest releases, the benchmark, the layout.

install, offline, repeat, latest (with junit, which reads what a pytest run broke), bench (with bench_timing,
bench_learner and bench_course), layout (the package's parts and the README's map of them).
"""
