"""What every page shares: the request context, templates, static files and error pages."""
