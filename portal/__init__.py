"""Front Door portal: the citizen-facing web application (Litestar, Jinja, htmx)."""
