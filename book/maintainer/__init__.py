"""The maintainer's tools: installs, the offline wrapper, repeat rounds, the newest releases, the benchmark."""
