"""Browser fixtures: the real app on the demo data behind a live server, driven by Debian's
chromium through Playwright (which cannot download its own browsers here).

A plugin of the root conftest, so that every folder (e2e, security) shares one browser: a second
session-scoped copy would start a second Playwright in the same thread, which it refuses.

Without chromium the browser tests are skipped on a workstation but fail on CI (CI=true), so
that the journey is never silently left untested where it counts.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import WSGIRequestHandler, make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 10_000


@dataclass
class LiveServer:
    url: str
    app: Flask


class QuietRequestHandler(WSGIRequestHandler):
    """No access log line per asset: a failing test's output stays readable."""

    def log_request(self, code="-", size="-") -> None:
        pass


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so `page` knows whether the test failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture
def live_server(make_app) -> Iterator[LiveServer]:
    """The app with CSRF on and the dev login, seeded with the demo data, on 127.0.0.1."""
    from datapass.demo import seed_demo
    from datapass.extensions import db

    app = make_app(WTF_CSRF_ENABLED=True, DEV_LOGIN=True)
    with app.app_context():
        assert seed_demo()
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield LiveServer(f"http://127.0.0.1:{server.server_port}", app)
    server.shutdown()
    thread.join(5)
    server.server_close()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing: install Debian's chromium (scripts/test.sh does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)  # the CPUs may be shared with other test runs
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server, request, tmp_path):
    """A fresh browser context (no cookies) on the live server; a screenshot if the test fails."""
    context = browser.new_context(base_url=live_server.url, locale="fr-FR")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        path = tmp_path / "failure.png"
        try:
            page.screenshot(path=str(path), full_page=True)
            print(f"screenshot of the failure: {path} (at {page.url})")
        except Exception as exc:  # a crashed page must not hide the test's own failure
            print(f"no screenshot: {exc}")
    context.close()
