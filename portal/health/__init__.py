"""/healthz (the process is up) and /readyz (what this replica needs answers)."""
