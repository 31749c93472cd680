"""/healthz (the process is up) and /readyz (its database and backends answer)."""
