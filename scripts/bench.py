"""Throughput of portal pages against a bare route on the same server, in one run.

Starts the portal as production does (granian, FRONTDOOR_WORKERS workers) on a free port with a
throwaway SQLite database, loads each route with wrk from the same machine, and prints requests
per second, p99 latency and each route's ratio to /healthz. Ratios, not absolute numbers, are
what carry over between machines.

Usage: make bench   (or: .venv/bin/python scripts/bench.py --seconds 10 --connections 32)
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
ROUTES = [
    ("bare route /healthz", "/healthz", {}),
    ("home page, English", "/", {"Accept-Language": "en"}),
    ("home page, Arabic", "/", {"Accept-Language": "ar"}),
    ("cookies page, Spanish", "/cookies", {"Accept-Language": "es"}),
    ("404 page", "/no-such-page", {}),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wrk(url: str, headers: dict[str, str], seconds: int, connections: int) -> tuple[float, str]:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    for name, value in {"Accept-Encoding": "gzip", **headers}.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+(\S+)", output).group(1)  # type: ignore[union-attr]
    return rate, p99


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as var:
        env = {
            **os.environ,
            "FRONTDOOR_PORT": str(port),
            "FRONTDOOR_VAR_DIR": var,
            "FRONTDOOR_DATABASE_URL": f"sqlite+aiosqlite:///{var}/bench.db",
            "FRONTDOOR_LOG_LEVEL": "WARNING",
        }
        subprocess.run(
            [sys.executable, "-m", "alembic", "upgrade", "head"], cwd=ROOT, env=env, check=True
        )
        server = subprocess.Popen([sys.executable, "-m", "portal", "serve"], cwd=ROOT, env=env)
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(100):
                try:
                    if httpx.get(f"{base}/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            for _, path, headers in ROUTES:  # warm every worker's template cache
                for _ in range(20):
                    httpx.get(base + path, headers=headers)
            workers = env.get("FRONTDOOR_WORKERS", "2")
            print(
                f"portal: granian, {workers} workers; wrk: 2 threads, {args.connections} "
                f"connections, {args.seconds}s per route, gzip accepted; same machine "
                f"({os.cpu_count()} cores)"
            )
            print(f"{'route':<24}{'req/s':>10}{'p99':>10}{'vs bare':>10}")
            bare = 0.0
            for label, path, headers in ROUTES:
                rate, p99 = wrk(base + path, headers, args.seconds, args.connections)
                bare = bare or rate
                print(f"{label:<24}{rate:>10.0f}{p99:>10}{rate / bare:>10.2f}")
        finally:
            server.terminate()
            server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
