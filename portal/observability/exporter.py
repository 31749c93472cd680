"""Serving the metrics on a port of their own (FRONTDOOR_METRICS_PORT, 9464; the worker's on
FRONTDOOR_WORKER_METRICS_PORT, 9465; 0 turns either off).

Why a port of its own rather than /metrics on the public one: Prometheus scrapes pods directly,
so the port never goes through the Service or the Ingress, needs no token to keep citizens out,
and a scrape never waits behind citizens' requests. Under `portal serve` the port is served by a
small process of its own beside granian's workers: it adds up what every worker wrote in
PROMETHEUS_MULTIPROC_DIR, forgets the live gauges of workers that have died, and reads the
queues from the database. prometheus_client picks its multiprocess mode when it is first
imported, so this module imports it only inside functions, after `prepare_directory`.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

from portal.settings import Settings

if TYPE_CHECKING:
    from multiprocessing.process import BaseProcess

    from prometheus_client import CollectorRegistry

log = structlog.get_logger(component="metrics")
ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare_directory(settings: Settings, environ: MutableMapping[str, str] | None = None) -> Path:
    """The multiprocess directory of `portal serve`: PROMETHEUS_MULTIPROC_DIR when set, else
    var/metrics/portal-<port>. The counts files of an earlier run are removed (they must not add
    up with this one's) and the folder is put in the environment the ASGI workers inherit."""
    env = os.environ if environ is None else environ
    directory = Path(env.get(ENV) or settings.var_dir / "metrics" / f"portal-{settings.port}")
    directory.mkdir(parents=True, exist_ok=True)
    for counts in directory.glob("*.db"):  # prometheus_client's files only, whatever the folder
        counts.unlink()
    env[ENV] = str(directory)
    return directory


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def mark_dead_workers(directory: Path) -> list[int]:
    """Drop the live gauges of worker processes that are gone (their counters stay: a count
    never goes back); the pids dropped."""
    from prometheus_client import multiprocess

    ends = {path.stem.rsplit("_", 1)[-1] for path in directory.glob("*_live*_*.db")}
    dead = sorted(pid for pid in map(int, filter(str.isdigit, ends)) if not _alive(pid))
    for pid in dead:
        multiprocess.mark_process_dead(pid, str(directory))  # type: ignore[no-untyped-call]
    return dead


def registry(directory: Path | None, database_url: str | None = None) -> CollectorRegistry:
    """What a scrape answers: the counts every worker process wrote in `directory` (else this
    process's own), and the queues read from the database when `database_url` is given."""
    from prometheus_client import REGISTRY, CollectorRegistry
    from prometheus_client.multiprocess import MultiProcessCollector
    from prometheus_client.registry import Collector

    from portal.observability.database import DatabaseCollector, sync_engine

    class Workers(Collector):
        def __init__(self, path: Path) -> None:
            self.path = path

        def describe(self) -> list[Any]:
            return []

        def collect(self) -> Iterator[Any]:
            mark_dead_workers(self.path)
            collector = MultiProcessCollector(None, str(self.path))  # type: ignore[no-untyped-call]
            yield from collector.collect()  # type: ignore[no-untyped-call]

    if directory is None:
        return REGISTRY
    found = CollectorRegistry(auto_describe=False)
    found.register(Workers(directory))
    if database_url is not None:
        found.register(DatabaseCollector(sync_engine(database_url)))
    return found


def _serve(host: str, port: int, found: CollectorRegistry) -> threading.Thread:
    from prometheus_client import start_http_server

    _server, thread = start_http_server(port, host, registry=found)
    return thread


def run_exporter(settings: Settings, directory: Path) -> None:
    """The metrics process of `portal serve` (a spawned child, stopped by granian's main
    process). One that cannot listen says so and ends: the portal serves citizens all the same."""
    import signal

    from portal.logs import configure_logging

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches granian, which stops us
    configure_logging(settings.log_level, settings.log_json)
    host, port = settings.host, settings.metrics_port
    try:
        thread = _serve(host, port, registry(directory, settings.database_url))
    except OSError as error:
        log.error("metrics_unavailable", reason=f"{host}:{port}: {error.strerror or error}")
        return
    log.info("metrics_listening", host=host, port=port)
    thread.join()


def start_exporter(settings: Settings, directory: Path) -> BaseProcess | None:
    """Start the metrics process of `portal serve` (None when FRONTDOOR_METRICS_PORT is 0).
    Spawned, not forked: it starts no threads or locks in the process granian forks from, and
    the portal does not wait for it."""
    if not settings.metrics_port:
        return None
    process = multiprocessing.get_context("spawn").Process(
        target=run_exporter, args=(settings, directory), name="frontdoor-metrics", daemon=True
    )
    process.start()
    return process


def start_worker_exporter(settings: Settings) -> bool:
    """The outbox worker's metrics, served by a thread of its own; False when it cannot listen
    (the worker delivers all the same, and says so)."""
    if not settings.worker_metrics_port:
        return False
    directory = os.environ.get(ENV)
    try:
        _serve(
            settings.host,
            settings.worker_metrics_port,
            registry(Path(directory) if directory else None),
        )
    except OSError as error:
        log.error(
            "metrics_unavailable",
            reason=f"{settings.host}:{settings.worker_metrics_port}: {error.strerror or error}",
        )
        return False
    log.info("metrics_listening", host=settings.host, port=settings.worker_metrics_port)
    return True
