"""What every part of the course shares: the exercises' manifest, notebooks read and run, report files, kernels."""
