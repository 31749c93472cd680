"""How many audit entries a second the chain takes: several processes, each with many requests
recording at once (an agent's search, a sign-in, a summary viewed: each is audited), on a
throwaway PostgreSQL database; then the chain is verified.

Usage: .venv/bin/python scripts/audit_rate.py [--processes 2] [--writers 16] [--seconds 8]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"


async def write(url: str, writers: int, seconds: float) -> int:
    """One process: `writers` requests recording one entry after another until time is up."""
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from portal.audit import AuditLog
    from portal.database import make_engine

    engine = make_engine(url)
    audit = AuditLog(async_sessionmaker(engine, expire_on_commit=False))
    end = time.monotonic() + seconds

    async def writer(n: int) -> int:
        written = 0
        while time.monotonic() < end:
            await audit.record("citizen_viewed", actor=f"agent:{n}", subject="c_1", purpose="x")
            written += 1
        return written

    try:
        return sum(await asyncio.gather(*(writer(n) for n in range(writers))))
    finally:
        await engine.dispose()


async def verify(url: str) -> tuple[bool, int]:
    from sqlalchemy.ext.asyncio import AsyncSession

    from portal.audit import verify_chain
    from portal.database import make_engine

    engine = make_engine(url)
    async with AsyncSession(engine) as db:
        report = await verify_chain(db)
    await engine.dispose()
    return report.intact, report.entries


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--writers", type=int, default=16, help="requests at once per process")
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--into", help=argparse.SUPPRESS)  # a writing process's database
    args = parser.parse_args()
    if args.into:
        print(asyncio.run(write(args.into, args.writers, args.seconds)))
        return 0
    sys.path.insert(0, str(ROOT / "scripts"))
    from bench import throwaway_database

    with throwaway_database(SERVER, prefix=f"frontdoor_audit_{uuid.uuid4().hex[:6]}") as url:
        assert url is not None
        env_url = {"FRONTDOOR_DATABASE_URL": url}
        subprocess.run(
            [sys.executable, "-m", "alembic", "upgrade", "head"],
            cwd=ROOT,
            env={**os.environ, **env_url},
            check=True,
            capture_output=True,
        )
        command = [sys.executable, __file__, "--writers", str(args.writers)]
        command += ["--seconds", str(args.seconds), "--into", url]
        processes = [
            subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
            for _ in range(args.processes)
        ]
        written = sum(int(process.communicate()[0].split()[-1]) for process in processes)
        intact, entries = asyncio.run(verify(url))
    print(
        f"{args.processes} processes x {args.writers} requests at once, {args.seconds:g} s: "
        f"{written} entries, {written / args.seconds:.0f} a second; chain intact: {intact} "
        f"({entries} entries)"
    )
    return 0 if intact and entries == written else 1


if __name__ == "__main__":
    sys.exit(main())
