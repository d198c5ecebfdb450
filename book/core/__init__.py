"""What every part of the course shares: the exercises' manifest, notebooks read and run, and pytest's set-up.

manifest (what the exercises are), notebooks (running a notebook's cells in-process), nbfiles (nbformat's
functions, typed), kernels, pytest_plugin and skip_slow_imports (how every pytest run of the course
starts).
"""
