"""Teammate lifecycle: liveness monitor, shutdown that always ends, resume."""
