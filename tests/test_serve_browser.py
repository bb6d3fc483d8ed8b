"""`cyberlog serve` in a real headless Chromium (slow; the `browser` fixture is in conftest):
open the index with the token once, follow a report's link, submit its form, download its
CSV, open its picture page; no request leaves the server, no script fails, nothing breaks
the page's Content-Security-Policy."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import Opened
from conftest import copy_store
from test_serve import TOKEN, cli_csv, start


@pytest.fixture(scope="module")
def store(shared_fixture_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_store(shared_fixture_store, tmp_path_factory.mktemp("serve-browser") / "store.duckdb")


@pytest.fixture(scope="module")
def guarded(store: Path) -> Iterator[str]:
    yield from start(store, "--token", TOKEN)


def open_url(browser: Any, url: str, base: str) -> Opened:
    """Like `browser.open_page`, over HTTP: every request not to `base`, every script error
    and every console error (a CSP violation is one) recorded."""
    page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    opened = Opened(page)
    page.on("request", lambda r: opened.requests.append(r.url) if not r.url.startswith(base + "/") else None)
    page.on("pageerror", lambda e: opened.errors.append(str(e)))
    page.on("console", lambda m: opened.errors.append(m.text) if m.type == "error" else None)
    page.goto(url)
    return opened


def test_index_report_form_download_and_picture(browser: Any, guarded: str, store: Path, tmp_path: Path) -> None:
    opened = open_url(browser, f"{guarded}/?token={TOKEN}", guarded)
    page = opened.page
    assert page.locator("table.reports a").count() >= 9
    page.click("a[href='/reports/timeline']")  # the cookie the token set lets the link through
    page.wait_for_url(f"{guarded}/reports/timeline")
    assert page.locator(".count").inner_text() == "rows 1\u201343 of 43"

    page.select_option("select[name=kind]", "incident")
    page.click("form.params button[type=submit]")
    page.wait_for_url("**/reports/timeline?*kind=incident*")
    assert page.locator(".count").inner_text() == "rows 1\u20139 of 9"

    with page.expect_download() as info:
        page.click("a.download:text('CSV')")
    saved = tmp_path / "timeline.csv"
    info.value.save_as(saved)
    assert saved.read_text("utf-8") == cli_csv(store, "timeline", {"kind": "incident"})

    page.click("a.picture")
    page.wait_for_selector("#picture svg")
    assert "params: kind=incident" in page.content()
    assert opened.requests == [], opened.requests
    assert opened.errors == [], opened.errors
    page.close()


def test_sql_page_in_the_browser(browser: Any, guarded: str) -> None:
    opened = open_url(browser, f"{guarded}/sql?token={TOKEN}", guarded)
    page = opened.page
    page.fill("textarea[name=sql]", "SELECT n FROM range(150) t(n) ORDER BY n")
    page.click("form.sql button[type=submit]")
    page.wait_for_selector(".count")
    assert page.locator(".count").inner_text() == "rows 1\u2013100 of 150"
    page.click("a[rel=next]")
    page.wait_for_url("**page=2*")
    assert page.locator(".count").inner_text() == "rows 101\u2013150 of 150"
    assert opened.clean, (opened.requests, opened.errors)
    page.close()
