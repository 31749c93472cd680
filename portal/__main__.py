"""`python -m portal check` validates the settings; `python -m portal serve` starts the portal."""

from __future__ import annotations

import argparse
import os
import sys

from portal.settings import SettingsError, load_settings, unknown_variables


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m portal")
    parser.add_argument("command", choices=["check", "serve"])
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as error:
        print(error, file=sys.stderr)
        return 2
    for warning in unknown_variables(os.environ):
        print(f"warning: {warning}", file=sys.stderr)
    if args.command == "check":
        print(f"settings ok: {settings.env}, database {settings.database_url.split('://')[0]}")
        return 0
    from granian import Granian
    from granian.constants import Interfaces

    Granian(
        "portal.asgi:app_factory",
        factory=True,
        address=settings.host,
        port=settings.port,
        interface=Interfaces.ASGI,
        workers=settings.workers,
        log_access=False,
    ).serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
