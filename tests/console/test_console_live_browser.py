"""Recording by phone, followed live in a real browser (Debian's chromium): the staff line is
driven as Twilio drives it, from a helpline phone through the hotline's own number, while
the live page is open; its highlight and large text move with the call.

Skipped (with the reason) only where chromium or Playwright is not installed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

playwright_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
pytest.importorskip("axe_playwright_python.sync_playwright",
                    reason="axe-playwright-python is not installed")
CHROMIUM = "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium", allow_module_level=True)

from ivr.console.recording import text_to_read  # noqa: E402
from ivr.voice.simulate import parse_twiml  # noqa: E402
from tests.console.test_console_browser import (  # noqa: E402
    chromium,
    serious_violations,
    serving,
    sign_in,
)
from tests.console.test_console_phone_line import PIN, RECORDING_URL  # noqa: E402
from tests.console.test_console_recordings import speech_like  # noqa: E402
from tests.console.test_console_staff_door import HELPLINE_MOBILE, post  # noqa: E402

pytestmark = pytest.mark.slow  # drives chromium

NOW = 'li[aria-current="step"]'


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def server(console_app: Flask) -> Iterator[str]:
    """The console on a loopback port; the staff line set up (PIN, a take to fetch)."""
    console_app.config.update(STAFF_RECORDING_PIN=PIN, TESTING=False,
                              STAFF_RECORDING_FETCH=lambda app, sid: speech_like())
    with serving(console_app) as url:
        yield url


@pytest.fixture
def page(browser: Any, server: str) -> Iterator[Any]:
    context = browser.new_context(base_url=server, viewport={"width": 1200, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(20_000)
    yield opened
    context.close()


def test_the_live_page_follows_a_recording_by_phone(page: Any, console_app: Flask,
                                                    tmp_path: Path) -> None:
    twilio = console_app.test_client()
    hotline = console_app.extensions["hotline"]

    def phone(url: str, **form: str) -> Any:
        return parse_twiml(post(twilio, url, HELPLINE_MOBILE, CallSid="CAlive", **form))

    sign_in(page)
    page.goto("/console/live")
    page.wait_for_selector("text=No call to the recording line now.")
    assert serious_violations(page) == []
    # A helpline phone calls the hotline's number, enters the PIN and picks Ukrainian.
    door = phone("/voice")
    languages = phone(door.gather_action, Digits=PIN)
    first = phone(languages.gather_action, Digits="5")
    assert first.record_action
    page.wait_for_selector(f'{NOW}[data-index="0"]')  # the call appeared: the page reloaded
    greeting = text_to_read(hotline, "uk", "greeting")
    assert page.locator(".read-now").inner_text() == greeting
    assert page.locator(".read-now").get_attribute("lang") == "uk"
    assert page.get_by_role("heading", level=2).inner_text().startswith(
        "Ukrainian: prompt 1 of ")
    page.evaluate("window.sameDocument = true")  # from here on, no reload: the script moves
    heard = phone(first.record_action, RecordingSid="RE0001", RecordingUrl=RECORDING_URL,
                  RecordingDuration="4")
    page.wait_for_selector("text=Listening back: 1 keeps it, 2 records it again")
    phone(heard.gather_action, Digits="1")
    page.wait_for_selector(f'{NOW}[data-index="1"]')
    option = text_to_read(hotline, "uk", "language.option")
    page.wait_for_function("text => document.querySelector('.read-now').textContent === text",
                           arg=option)
    assert page.evaluate("window.sameDocument") is True
    assert page.locator(NOW).count() == 1
    assert page.locator('li[data-index="0"] [data-field="marker"]').inner_text() == "Kept"
    assert page.locator(f"{NOW} code").inner_text() == "language.option"
    assert "prompt 2 of " in page.get_by_role("heading", level=2).inner_text()
    shots = Path(os.environ.get("CONSOLE_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "live-phone-recording.png"))
    assert serious_violations(page) == []
