"""Entry point for the ASGI server: `granian --factory portal.asgi:app_factory`."""

from litestar import Litestar

from portal.app import create_app
from portal.settings import load_settings


def app_factory() -> Litestar:
    return create_app(load_settings())
