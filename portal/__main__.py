"""`python -m portal check` validates the settings; `serve` starts the portal; `worker` starts
the outbox worker; `audit-verify` checks the audit chain."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from sqlalchemy.ext.asyncio import AsyncSession

from portal.settings import SettingsError, load_settings, unknown_variables


async def _verify_audit(database_url: str) -> int:
    """Exit 0 when the audit chain is intact, 1 with the first bad entry otherwise."""
    from portal.audit import verify_chain
    from portal.database import make_engine

    engine = make_engine(database_url)
    async with AsyncSession(engine) as db:
        report = await verify_chain(db)
    await engine.dispose()
    if report.intact:
        print(f"audit chain intact: {report.entries} entries")
        return 0
    print(f"audit chain BROKEN at entry {report.broken_at}: {report.reason}", file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m portal")
    parser.add_argument("command", choices=["check", "serve", "worker", "audit-verify"])
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as error:
        print(error, file=sys.stderr)
        return 2
    for warning in unknown_variables(os.environ):
        print(f"warning: {warning}", file=sys.stderr)
    if args.command == "audit-verify":
        return asyncio.run(_verify_audit(settings.database_url))
    if args.command == "worker":
        from portal.outbox.run import run_worker

        asyncio.run(run_worker(settings))
        return 0
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
