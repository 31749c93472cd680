"""Entry point for the ASGI server: `granian --factory portal.asgi:app_factory`."""

import gc

from litestar import Litestar

from portal.app import create_app
from portal.settings import load_settings


def app_factory() -> Litestar:
    """The app for one server worker. What start-up built (modules, catalogue, mappers) lives as
    long as the worker, so it is frozen out of the collector's full passes, which otherwise walk
    it during requests (measured: about 10% more application pages per second, lower p99)."""
    app = create_app(load_settings())
    gc.collect()
    gc.freeze()
    return app
