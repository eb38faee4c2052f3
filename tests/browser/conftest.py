"""Real-browser fixtures: headless Debian Chromium driven by Playwright, offline by force.

Skips with a reason when Playwright or Chromium is missing; CI installs both.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def chromium_path() -> str | None:
    """$CHROMIUM_PATH, else Debian's chromium on PATH."""
    return os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")


@dataclass
class PageLog:
    """What a page did: console errors, uncaught exceptions, and every request it tried."""

    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)


def allowed_url(url: str, origins: tuple[str, ...] = ()) -> bool:
    return url.startswith(("file://", "data:", "blob:", "about:", *origins))


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')"
    )
    path = chromium_path()
    if path is None:
        pytest.skip(
            "chromium is not installed (apt-get install -y chromium) and CHROMIUM_PATH unset"
        )
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def open_logged_page(browser: Any, origins: tuple[str, ...] = ()) -> tuple[Any, PageLog]:
    """A fresh page whose requests outside file:// (and `origins`) are recorded and aborted."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    log = PageLog()
    page.on("console", lambda msg: log.errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: log.errors.append(str(exc)))
    page.on("request", lambda req: log.requests.append(req.url))

    def guard(route: Any) -> None:
        if allowed_url(route.request.url, origins):
            route.continue_()
        else:
            log.blocked.append(route.request.url)
            route.abort()

    page.route("**/*", guard)
    return page, log


def screenshot(page: Any, name: str) -> Path:
    """Keep a full-page screenshot under test-artifacts/browser/ (gitignored)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    target = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(target), full_page=True)
    return target
