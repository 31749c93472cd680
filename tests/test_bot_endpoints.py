"""chatbot/endpoints.py: the endpoints file Rasa starts with gains a Redis lock store when
FRONTDOOR_CHATBOT_LOCK_STORE_URL is set. Read back by Rasa's own code in the bot's environment
(chatbot/.venv): two replicas then take turns on one conversation through that Redis."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parent.parent / "chatbot"
PYTHON = BOT / ".venv" / "bin" / "python"
READ = r"""
import asyncio, json, sys, warnings
warnings.filterwarnings("ignore")
from rasa.core.lock_store import LockStore
from rasa.utils.endpoints import read_endpoint_config

store = LockStore.create(read_endpoint_config(sys.argv[1], "lock_store"))
kwargs = store.red.connection_pool.connection_kwargs if hasattr(store, "red") else {}
seen = {
    "type": type(store).__name__,
    "host": kwargs.get("host"), "port": kwargs.get("port"), "db": kwargs.get("db"),
    "prefix": getattr(store, "key_prefix", None),
}


async def two_servers():
    # One server holds the conversation's lock; a message reaching another server waits.
    async with store.lock(sys.argv[2]):
        ticket = store.issue_ticket(sys.argv[2])
        seen["second waits"] = store.get_lock(sys.argv[2]).is_locked(ticket)
        seen["in redis"] = [k.decode() for k in store.red.keys(store.key_prefix + "*")]
        store.cleanup(sys.argv[2], ticket)

if hasattr(store, "red"):
    asyncio.run(two_servers())
print(json.dumps(seen))
"""
sys.path.insert(0, str(BOT))
from endpoints import lock_store, write  # noqa: E402 - chatbot/endpoints.py, plain Python


def _as_rasa_reads_it(path: Path, conversation: str = "") -> dict[str, object]:
    env = {
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        # What endpoints.yml names (Rasa expands every variable when it reads the file).
        "FRONTDOOR_CHATBOT_PORTAL_URL": "http://127.0.0.1:8000",
        "FRONTDOOR_BOT_SECRET": "secret",
        "FRONTDOOR_CHATBOT_TRACKER_URL": "sqlite:///unused.db",
    }
    run = subprocess.run(
        [str(PYTHON), "-c", READ, str(path), conversation],
        cwd=BOT,
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return dict(json.loads(run.stdout.strip().splitlines()[-1]))


def test_a_lock_store_url_becomes_rasas_lock_store_section() -> None:
    section = lock_store("rediss://:s%40cret@redis.city.example:6380/2")
    assert section.splitlines() == [
        "lock_store:",
        "  type: redis",
        "  url: redis.city.example",
        "  port: 6380",
        "  db: 2",
        "  key_prefix: frontdoor",
        "  password: s@cret",
        "  use_ssl: true",
    ]
    with pytest.raises(ValueError, match="redis://"):
        lock_store("http://redis.city.example")


@pytest.mark.skipif(not PYTHON.exists(), reason="chatbot/.venv is missing: run `make bot`")
def test_rasa_locks_conversations_in_redis_only_when_asked(tmp_path: Path) -> None:
    alone = _as_rasa_reads_it(write(tmp_path / "alone.yml", None))
    assert alone["type"] == "InMemoryLockStore"
    conversation = f"test-{uuid.uuid4().hex}"
    seen = _as_rasa_reads_it(
        write(tmp_path / "shared.yml", "redis://127.0.0.1:6379/14"), conversation
    )
    assert seen["type"] == "RedisLockStore"
    assert (seen["host"], seen["port"], seen["db"]) == ("127.0.0.1", 6379, 14)
    assert str(seen["prefix"]).startswith("frontdoor:")
    assert seen["second waits"] is True
    keys = seen["in redis"]
    assert isinstance(keys, list) and f"{seen['prefix']}{conversation}" in keys
