"""Small URL helpers shared by routes and templates."""

from __future__ import annotations

from urllib.parse import quote, urlsplit


def safe_next(target: str | None) -> str:
    """A local path to go back to; anything that could leave the site becomes "/"."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


def language_url(language: str, current_path: str) -> str:
    """The switcher link that changes to `language` and returns to `current_path`."""
    return f"/language/{language}?next={quote(current_path, safe='/')}"
