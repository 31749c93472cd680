"""A real portal process, Debian's Chromium through Playwright, and axe-core from npm."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Error, Page, sync_playwright

from conftest import ROOT, Sandbox, free_port, migrate, wait_for

CHROMIUM = os.environ.get("FRONTDOOR_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
# A tag in what the reader sees means markup was escaped on its way to the page.
ESCAPED_TAG = r"<\/?[a-z][a-z0-9-]*(\s[^<>]*)?\/?>"
# The first line of visible text that shows a tag, or null.
FIND_ESCAPED_TAG = (
    "() => (document.body ? document.body.innerText : '').split('\\n')"
    f".find((line) => /{ESCAPED_TAG}/i.test(line)) ?? null"
)
# Pages with JavaScript look at their own text when loaded and after every change (htmx swaps).
WATCH_FOR_ESCAPED_TAGS = f"""
(() => {{
  const find = {FIND_ESCAPED_TAG};
  const reported = new Set();
  const look = () => {{
    const line = find();
    if (line !== null && !reported.has(line)) {{
      reported.add(line);
      window.fdEscapedTag(line);
    }}
  }};
  document.addEventListener("DOMContentLoaded", () => {{
    look();
    new MutationObserver(look).observe(document.body, {{
      childList: true, subtree: true, characterData: true,
    }});
  }});
}})();
"""


@pytest.fixture(scope="session")
def live_database(postgres_database: Callable[[], str]) -> str:
    """The database of the live portal (tests read what it stored)."""
    database = postgres_database()
    migrate(database)
    return database


@pytest.fixture(scope="session")
def bot_port() -> int:
    """Where the bot listens: the portal is told before the bot starts (see `bot`)."""
    return free_port()


@contextmanager
def running_portal(
    sandbox: Sandbox,
    database: str,
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    *,
    workers: int = 1,
    ready_seconds: float = 30,
    **settings: str,
) -> Iterator[str]:
    """A portal served by its real ASGI server and its outbox worker, as `make run` starts them,
    on `database` and the sandbox; `settings` are more FRONTDOOR_* values (catalogue_dir=...).
    Yields its address once it answers; stops both after."""
    port = free_port()
    env = {
        **os.environ,
        "FRONTDOOR_ENV": "test",
        "FRONTDOOR_PORT": str(port),
        "FRONTDOOR_WORKERS": str(workers),
        "FRONTDOOR_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "FRONTDOOR_DATABASE_URL": database,
        "FRONTDOOR_VAR_DIR": str(tmp_path_factory.mktemp("var")),
        "FRONTDOOR_TWILIO_API_URL": f"{sandbox.url}/twilio",
        "FRONTDOOR_SMTP_PORT": str(sandbox.smtp_port),
        "FRONTDOOR_CITIZEN_OIDC_ISSUER": f"{sandbox.url}/oidc/citizen",
        "FRONTDOOR_STAFF_OIDC_ISSUER": f"{sandbox.url}/oidc/staff",
        "FRONTDOOR_DEPARTMENTS_URL": f"{sandbox.url}/departments",
        "FRONTDOOR_GIS_URL": f"{sandbox.url}/gis",
        "FRONTDOOR_DOCUMENTS_URL": f"{sandbox.url}/documents",
        "FRONTDOOR_OPEN311_URL": f"{sandbox.url}/open311",
        "FRONTDOOR_PAYMENTS_URL": f"{sandbox.url}/payments",
        "FRONTDOOR_BILLS_URL": f"{sandbox.url}/bills",
        "FRONTDOOR_DIGIT_URL": f"{sandbox.url}/digit",
        "FRONTDOOR_WORKER_IDLE_SECONDS": "0.2",
        **{f"FRONTDOOR_{key.upper()}": value for key, value in settings.items()},
    }
    log = (tmp_path_factory.mktemp("logs") / f"{name}.log").open("wb")
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "portal", command],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        for command in ("serve", "worker")
    ]
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", processes[0], seconds=ready_seconds)
        yield f"http://127.0.0.1:{port}"
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
        log.close()


@pytest.fixture(scope="session")
def base_url(
    sandbox_process: Sandbox,
    live_database: str,
    bot_port: int,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """The portal as `make run` starts it: two workers (as in production: they share the secret
    and sessions) and the outbox worker, so applications reach the departments."""
    with running_portal(
        sandbox_process,
        live_database,
        tmp_path_factory,
        "portal",
        workers=2,
        rasa_url=f"http://127.0.0.1:{bot_port}",
    ) as url:
        # The gateway's webhooks reach this portal, as they would in production.
        hook = {"url": f"{url}/webhooks/payments"}
        httpx.put(f"{sandbox_process.url}/_sandbox/payments/webhook", json=hook).raise_for_status()
        yield url


@pytest.fixture(scope="session")
def bot(
    base_url: str,
    bot_port: int,
    postgres_database: Callable[[], str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """The Rasa server with the current model (trained first if the data changed), its tracker
    store in a database of its own, calling this portal's NLG and action endpoints."""
    tracker = postgres_database().replace("postgresql+psycopg://", "postgresql://")
    log = (tmp_path_factory.mktemp("logs") / "bot.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "scripts/bot.py",
            "serve",
            *("--port", str(bot_port), "--portal-url", base_url),
        ],
        cwd=ROOT,
        env={**os.environ, "FRONTDOOR_CHATBOT_TRACKER_URL": tracker},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(f"http://127.0.0.1:{bot_port}/", process, seconds=600)
        yield f"http://127.0.0.1:{bot_port}"
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_context(base_url: str, browser: Browser) -> Iterator[Callable[..., BrowserContext]]:
    """Browser contexts (a fresh profile each) with the given options, e.g. locale="ar".

    `base_url` comes first: it migrates with asyncio, which cannot run once Playwright's sync
    API holds the thread's event loop.
    """
    with contexts_on(browser, base_url) as make:
        yield make


@contextmanager
def contexts_on(browser: Browser, base_url: str) -> Iterator[Callable[..., BrowserContext]]:
    """Browser contexts on the portal at `base_url` (a fresh profile each, with the given
    options); at the end, fails if any page of them showed markup as text."""
    contexts: list[BrowserContext] = []
    escaped: list[str] = []

    def make(**options: Any) -> BrowserContext:
        context = browser.new_context(base_url=base_url, **options)
        contexts.append(context)
        watch_for_escaped_tags(context, escaped, options.get("java_script_enabled", True))
        return context

    yield make
    for context in contexts:
        for open_page in context.pages:
            look_for_escaped_tag(open_page, escaped)
        context.close()
    if escaped:
        pytest.fail("Escaped markup shown to the reader:\n" + "\n".join(dict.fromkeys(escaped)))


def watch_for_escaped_tags(context: BrowserContext, escaped: list[str], javascript: bool) -> None:
    """Note every page of the context whose visible text shows a tag (`<br>` as text).

    With JavaScript the page watches itself, htmx swaps included; without it, each page is read
    when it has loaded (Playwright still evaluates there)."""
    if javascript:
        context.expose_binding(
            "fdEscapedTag", lambda source, line: escaped.append(f"{source['page'].url}: {line}")
        )
        context.add_init_script(WATCH_FOR_ESCAPED_TAGS)
    else:
        context.on("page", lambda new: new.on("load", lambda: look_for_escaped_tag(new, escaped)))


def look_for_escaped_tag(page: Page, escaped: list[str]) -> None:
    try:
        line = page.evaluate(FIND_ESCAPED_TAG)
    except Error:
        return  # the page went on to the next one (or closed) before it could be read
    if line is not None:
        escaped.append(f"{page.url}: {line}")


@pytest.fixture
def page(new_context: Callable[..., BrowserContext]) -> Page:
    return new_context(locale="en-GB").new_page()


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Run axe-core on the page as it is; injected over CDP, so the page's CSP is untouched."""
    page.evaluate(AXE.read_text())
    return list(
        page.evaluate(
            "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}}))"
            ".violations.map(v => ({id: v.id, help: v.help, nodes: v.nodes.map(n => n.target)}))",
            AXE_TAGS,
        )
    )
