"""Browser tests: a real ``fanbase serve --demo`` on a free port (one per module) and Debian's Chromium
(one per session) driven by Playwright. Playwright's own browser download does not work offline, so
Chromium is the system package at /usr/bin/chromium (``.ci/run`` installs it when it is missing)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}
STAFF = {"email": "admin@fanbase.demo", "password": "fanbase-admin"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo store, served as in production (SQLite in a temporary data dir), with a launch coming up."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FANBASE_")}
    env.update(FANBASE_DATA_DIR=str(tmp_path_factory.mktemp("browser-store")), FANBASE_PUBLIC_URL=base,
               FANBASE_SECRET_KEY="browser-test-secret")
    process = subprocess.Popen([sys.executable, "-m", "fanbase", "serve", "--demo", "--port", str(port)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/api/v1/products?limit=1", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the store did not start: {process.stderr.read() if process.stderr else ''}")
            time.sleep(0.1)
        _schedule_launch(base)
        yield base
    finally:
        process.terminate()
        process.wait(10)


def _schedule_launch(base: str) -> None:
    """A flash sale starting in two hours, so the home page shows its countdown."""
    token = httpx.post(base + "/api/v1/auth/login", json=STAFF).json()["token"]
    now = datetime.now(UTC)
    sale = {"sku": "XM15U-16-512-BLK", "units": 20, "price_fen": 599900, "per_customer_limit": 1,
            "reservations_open_at": now.isoformat(), "starts_at": (now + timedelta(hours=2)).isoformat(),
            "ends_at": (now + timedelta(hours=3)).isoformat()}
    reply = httpx.post(base + "/api/v1/admin/flash-sales", json=sale, headers={"Authorization": f"Bearer {token}"})
    assert reply.status_code == 201, reply.text


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, server: str) -> Iterator[Page]:
    """A fresh visitor (own cookies) at phone width, Chinese first like most of our fans."""
    context = browser.new_context(base_url=server, viewport=PHONE, locale="zh-CN")
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    context.close()


def screenshot(page: Page, name: str) -> None:
    """The page at phone and at desktop width, under docs/screenshots/ (shown in the README)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-phone.png"), full_page=True)
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-desktop.png"))
    page.set_viewport_size(PHONE)
