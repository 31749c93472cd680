"""Editors' changes to every text, in every language, laid over the gettext catalogues."""
