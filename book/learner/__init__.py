"""The learner's instruments: the dependency graph, the request trace, their pictures, a learner's tests, the lab."""
