"""Service design: services written by designers, kept as versions in the database, reviewed by
a second designer and published live without a restart (issue 18)."""
