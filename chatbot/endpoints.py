"""The endpoints file Rasa is started with: endpoints.yml, plus a Redis lock store when
FRONTDOOR_CHATBOT_LOCK_STORE_URL names one (redis://[:password@]host[:port][/db]).

With several Rasa servers sharing one tracker store, each keeps its own in-memory lock unless
they share a lock store: two messages of one conversation reaching two servers at once would be
handled together, and the conversation's events interleaved. Plain Python (no Rasa import), so
the portal's scripts/bot.py and the bot's image (chatbot/Dockerfile) both use it.

    python endpoints.py /tmp/endpoints.yml
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

HERE = Path(__file__).resolve().parent


def lock_store(url: str) -> str:
    """Rasa's `lock_store:` section for a redis:// (or rediss://) URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss"):
        raise ValueError(f"FRONTDOOR_CHATBOT_LOCK_STORE_URL must be redis:// or rediss://: {url}")
    lines = [
        "lock_store:",
        "  type: redis",
        f"  url: {parts.hostname or '127.0.0.1'}",
        f"  port: {parts.port or 6379}",
        f"  db: {int(parts.path.strip('/') or 0)}",
        "  key_prefix: frontdoor",
    ]
    if parts.password:
        lines.append(f"  password: {unquote(parts.password)}")
    if parts.scheme == "rediss":
        lines.append("  use_ssl: true")
    return "\n".join(lines) + "\n"


def write(target: Path, lock_store_url: str | None) -> Path:
    """endpoints.yml with the lock store (if any) added, written to `target`."""
    text = (HERE / "endpoints.yml").read_text()
    if lock_store_url:
        text = text.rstrip("\n") + "\n" + lock_store(lock_store_url)
    target.write_text(text)
    return target


if __name__ == "__main__":
    write(Path(sys.argv[1]), os.environ.get("FRONTDOOR_CHATBOT_LOCK_STORE_URL"))
