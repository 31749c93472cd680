"""`python -m portal check` validates the settings; `serve` starts the portal; `worker` starts
the outbox worker; `audit-verify` checks the audit chain; `services check FILE...` checks service
definitions as the portal and the designers' editor do; `services schema` prints their JSON
Schema."""

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


def _services(argv: list[str]) -> int:
    """Definitions checked offline (exit 1 on any problem), or the format's JSON Schema."""
    import json
    from pathlib import Path

    from portal.catalogue.check import Known, check_definition, schema
    from portal.catalogue.loader import load_catalogue
    from portal.settings import ROOT

    parser = argparse.ArgumentParser(prog="python -m portal services")
    parser.add_argument("action", choices=["check", "schema"])
    parser.add_argument("files", nargs="*", type=Path)
    args = parser.parse_args(argv)
    if args.action == "schema":
        print(json.dumps(schema(), indent=2, ensure_ascii=False))
        return 0
    if not args.files:
        parser.error("name at least one definition file")
    catalogue = load_catalogue(ROOT / "portal" / "catalogue" / "definitions")
    known = Known(catalogue.departments, catalogue.topics)
    failed = False
    for path in args.files:
        try:
            source = path.read_text(encoding="utf-8")
        except OSError as error:
            print(f"{path}: cannot be read: {error.strerror}")
            failed = True
            continue
        result = check_definition(source, known, file_name=path.stem)
        for problem in result.problems:
            where = f"{problem.path}: " if problem.path else ""
            print(f"{path}:{problem.line or 1}: {where}{problem.message}")
        if result.problems:
            failed = True
        else:
            print(f"{path}: ok")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["services"]:
        return _services(argv[1:])
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
        from portal.worker import run_worker

        asyncio.run(run_worker(settings))
        return 0
    if args.command == "check":
        print(f"settings ok: {settings.env}, database {settings.database_url.split('://')[0]}")
        return 0
    from granian import Granian
    from granian.constants import Interfaces

    from portal.logs import configure_logging
    from portal.observability.exporter import prepare_directory, start_exporter

    configure_logging(settings.log_level, settings.log_json)
    # Before any worker imports prometheus_client: each then writes its counts in this folder.
    metrics = start_exporter(settings, prepare_directory(settings))
    try:
        Granian(
            "portal.asgi:app_factory",
            factory=True,
            address=settings.host,
            port=settings.port,
            interface=Interfaces.ASGI,
            workers=settings.workers,
            log_access=False,
            # Granian's own lines go through ours: JSON, one write() each (portal/logs.py).
            log_dictconfig={"loggers": {"_granian": {"handlers": [], "propagate": True}}},
        ).serve()
    finally:
        if metrics is not None:
            metrics.terminate()
    return 0


if __name__ == "__main__":
    sys.exit(main())
