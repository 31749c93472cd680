"""`python -m backend_clients.sandbox [--port 8100] [--smtp-port 8025]`: one process, in memory."""

from __future__ import annotations

import argparse
import os

from granian import Granian
from granian.constants import Interfaces


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m backend_clients.sandbox")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("FRONTDOOR_SANDBOX_PORT", "8100"))
    )
    parser.add_argument(
        "--smtp-port", type=int, default=int(os.environ.get("FRONTDOOR_SANDBOX_SMTP_PORT", "8025"))
    )
    args = parser.parse_args()
    os.environ["FRONTDOOR_SANDBOX_SMTP_PORT"] = str(args.smtp_port)
    # One worker: the sandbox keeps its state in memory.
    Granian(
        "backend_clients.sandbox.app:app_factory",
        factory=True,
        address=args.host,
        port=args.port,
        interface=Interfaces.ASGI,
        workers=1,
        log_access=False,
    ).serve()


if __name__ == "__main__":
    main()
