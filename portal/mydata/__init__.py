"""Everything the front door holds about a citizen, as one download: it reads every feature's
tables, so it sits above them all."""
