"""The author's tools: release exercises from their solutions, execute notebooks in place."""
