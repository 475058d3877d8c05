"""Playwright fixtures for browser tests: Debian's chromium against pytest-django's live server.

Loaded as a plugin for the whole suite (`-p tests.browser_support` in pyproject.toml), so
one browser serves every directory: Playwright's sync API allows one instance per thread.
Reusable by any area: `page` (a fresh tab), `new_page()` (another tab in the same session),
`login(page, user)`, `screenshot(page, name)` (saved under tests/artifacts/).
"""

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def pytest_collection_modifyitems(config, items):
    if CHROMIUM:
        return
    skip = pytest.mark.skip(reason="no chromium binary (set CHROMIUM_PATH or install chromium)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM:
        pytest.skip("no chromium binary (set CHROMIUM_PATH or install chromium)")
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls in the
    # test body are then flagged as "async unsafe" although they run synchronously.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def browser_context(browser, live_server, transactional_db):
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1360, "height": 900}, locale="en-GB"
    )
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def page(browser_context):
    page = browser_context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors
    yield page
    page.close()


@pytest.fixture
def new_page(browser_context):
    """Another tab in the same browser session (same login cookies)."""
    return browser_context.new_page


@pytest.fixture
def login():
    from tests.factories import PASSWORD

    def do_login(page, user, password=PASSWORD):
        page.goto("/accounts/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", password)
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/accounts/login/" not in url)
        return page

    return do_login


@pytest.fixture
def screenshot():
    ARTIFACTS.mkdir(exist_ok=True)

    def take(page, name, full_page=True):
        path = ARTIFACTS / f"{name}.png"
        # From the top, so the sticky top bar is where a person sees it.
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take
