"""The home page and the pages every public service must have."""
