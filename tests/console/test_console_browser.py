"""The console in a real browser: Debian's chromium driven by Playwright, audited by axe-core.

Skipped (with the reason) only where chromium or Playwright is not installed.
"""

from __future__ import annotations

import math
import os
import shutil
import struct
import threading
import wave
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from ivr.content.audio import text_hash

playwright_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
axe_api = pytest.importorskip("axe_playwright_python.sync_playwright",
                              reason="axe-playwright-python is not installed")
CHROMIUM = "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium", allow_module_level=True)

from tests.console.conftest import OPERATOR, PASSWORD  # noqa: E402
from tests.console.test_console_menu import (  # noqa: E402
    AR_TALK,
    UK_SIGNS,
    UK_TALK,
    build,
    write_catalog,
)

pytestmark = pytest.mark.slow  # drives chromium

BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--autoplay-policy=no-user-gesture-required"]
PAGES = ["/console/menu?lang=uk&ref=en", "/console/menu?lang=ar&ref=fr&show=not-ready",
         "/console/reviews?lang=uk", "/console/try", "/console/script?lang=ar",
         "/console/activity"]
ENGLISH_TALK = "To talk to INFOTRAITE now, press 1."
SERIOUS = {"serious", "critical"}


def write_tone(path: Path, seconds: float = 0.6) -> None:
    """A short 8 kHz tone: a real WAV the browser can play."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rate = 8000
    frames = b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate)))
                      for i in range(int(rate * seconds)))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(frames)


@contextmanager
def chromium(args: list[str] = BROWSER_ARGS) -> Iterator[Any]:
    """Debian's chromium, headless, through Playwright (every browser test's launch)."""
    with playwright_api.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=CHROMIUM, args=args)
        yield launched
        launched.close()


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """The app on a real threaded HTTP server on a loopback port; its base URL."""
    from werkzeug.serving import make_server

    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{http.server_port}"
    finally:
        http.shutdown()
        thread.join(5)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def server(console_app: Flask, tmp_path: Path) -> Iterator[str]:
    """The console on a real HTTP server on a loopback port, with known catalogs and audio."""
    locales, prompts = tmp_path / "locales", tmp_path / "prompts"
    write_catalog(locales, "uk", {"main.talk": (UK_TALK, True), "main.signs": (UK_SIGNS, True)})
    write_catalog(locales, "ar", {"main.talk": (AR_TALK, False)})
    write_tone(prompts / "en" / "main.talk.wav")
    (prompts / "manifest.toml").write_text(
        f'[[files]]\nlang = "en"\nprompt = "main.talk"\nsha256 = "{text_hash(ENGLISH_TALK)}"\n'
        'source = "recorded"\nduration = 0.6\n', encoding="utf-8")
    console_app.extensions["hotline"] = build(locales, prompts)
    console_app.config["TESTING"] = False  # errors as a user would get them
    with serving(console_app) as url:
        yield url


@pytest.fixture
def page(browser: Any, server: str) -> Iterator[Any]:
    context = browser.new_context(base_url=server, viewport={"width": 1200, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    yield opened
    context.close()


@pytest.fixture
def shots(tmp_path: Path) -> Callable[[Any, str], Path]:
    """Save a full-page screenshot (to CONSOLE_SCREENSHOTS when set, to look at)."""
    folder = Path(os.environ.get("CONSOLE_SCREENSHOTS") or tmp_path / "shots")
    folder.mkdir(parents=True, exist_ok=True)

    def take(page: Any, name: str) -> Path:
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def sign_in(page: Any) -> None:
    page.goto("/console/menu")
    assert "/console/login" in page.url
    page.get_by_label("Name").fill(OPERATOR)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/console/menu")


def serious_violations(page: Any) -> list[str]:
    results = axe_api.Axe().run(page)
    return [f"{v['id']} ({v['impact']}): {v['help']} at "
            f"{[node['target'] for node in v['nodes']][:3]}"
            for v in results.response["violations"] if v.get("impact") in SERIOUS]


def test_sign_in_refuses_a_wrong_password_then_signs_in(page: Any) -> None:
    page.goto("/console/login")
    page.get_by_label("Name").fill(OPERATOR)
    page.get_by_label("Password").fill("not the password at all")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text().startswith("That name and password")
    assert serious_violations(page) == []
    sign_in(page)
    assert page.get_by_role("heading", name="Menu", exact=True).is_visible()


def test_browse_the_menu_in_two_languages(page: Any, shots: Callable[[Any, str], Path]) -> None:
    sign_in(page)
    page.get_by_label("Language", exact=True).select_option("uk")
    page.get_by_label("Beside it, for reference").select_option("en")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**lang=uk**")
    page.locator("#node-main > summary").click()  # menus and prompts open when tapped
    page.locator("#p-main-main\\.talk > summary").click()
    ukrainian = page.locator('#p-main-main\\.talk blockquote[lang="uk"]')
    assert "INFOTRAITE" in ukrainian.inner_text()
    assert page.locator('blockquote[lang="en"]').count() > 10
    shots(page, "menu-uk")
    page.goto("/console/menu?lang=ar&ref=uk#p-main-main.talk")  # a link opens its prompt
    arabic = page.locator('#p-main-main\\.talk blockquote[lang="ar"]')
    assert arabic.get_attribute("dir") == "rtl" and "INFOTRAITE" in arabic.inner_text()
    # Most prompts have no Arabic translation yet: the caller hears English; the page says so.
    assert page.get_by_text("No translation: the caller hears this in English.").count() > 10
    assert page.locator('blockquote[lang="uk"]').count() >= 2
    shots(page, "menu-ar")
    assert page.evaluate("document.documentElement.lang") == "en"
    page.locator("summary", has_text="The menu as a picture").click()
    assert page.locator("svg.menu-graph").is_visible()


def test_play_a_prompt(page: Any) -> None:
    sign_in(page)
    page.goto("/console/menu?lang=en&ref=fr")
    player = page.locator('#p-main-main\\.talk audio').first
    assert player.get_attribute("src", timeout=5000).startswith("/prompts/en/main.talk.wav")
    player.evaluate("audio => audio.play()")
    # (wait_for_function would evaluate a string, which the console's CSP rightly refuses)
    for _ in range(50):
        if player.evaluate("audio => audio.currentTime") > 0:
            break
        page.wait_for_timeout(100)
    assert player.evaluate("audio => audio.currentTime") > 0
    assert player.evaluate("audio => audio.duration") == pytest.approx(0.6, abs=0.05)


def test_walk_the_keypad_to_a_transfer_with_the_keyboard(page: Any,
                                                         shots: Callable[[Any, str], Path]) -> None:
    sign_in(page)
    page.goto("/console/try")
    page.get_by_label("Time of the call").fill("2026-11-23T10:00")
    page.get_by_role("button", name="Start a call").focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Now: language menu, page 1")
    page.keyboard.press("2")  # the computer's keys press the phone's keys
    page.wait_for_selector("text=Now: menu main")
    shots(page, "try-main")
    assert serious_violations(page) == []
    page.keyboard.press("1")
    page.wait_for_selector("text=Ringing +35227365646")
    accept = page.get_by_role("button", name="The person answers and presses 1")
    for _ in range(40):  # reach it with Tab alone
        if page.evaluate("document.activeElement.textContent.trim()") == accept.inner_text():
            break
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=The call has ended.")
    assert "call starts → pressed 2 → pressed 1 → accepted" in page.inner_text(".history")


def test_try_phones_ringing_together_out_of_hours(page: Any,
                                                  shots: Callable[[Any, str], Path]) -> None:
    sign_in(page)
    page.goto("/console/try")
    page.get_by_label("Time of the call").fill("2026-11-22T22:00")  # Sunday night
    page.get_by_role("button", name="Start a call").click()
    page.wait_for_selector("text=Now: language menu, page 1")
    page.keyboard.press("2")
    page.wait_for_selector("text=Now: menu main")
    page.keyboard.press("1")
    page.wait_for_selector("text=Now: ringing together")
    assert page.get_by_text("Ringing together: +352621351884, +352621316919").is_visible()
    shots(page, "try-together")
    assert serious_violations(page) == []
    page.get_by_role("button", name="+352621316919 answers and presses 1").click()
    page.wait_for_selector("text=The call has ended.")
    assert page.get_by_text("The hotline stopped +352621351884 ringing.").is_visible()
    shots(page, "try-together-accepted")


def test_mark_a_prompt_reviewed(page: Any) -> None:
    sign_in(page)
    page.goto("/console/menu?lang=uk&ref=en#p-main-main.signs")
    prompt = page.locator("#p-main-main\\.signs")
    assert "fuzzy (not reviewed)" in prompt.inner_text()
    prompt.locator("summary", has_text="Review this translation").click()
    prompt.get_by_role("button", name="Mark reviewed").click()
    page.wait_for_selector("text=Main menu: signs (main.signs) in Ukrainian: marked reviewed.")
    assert "fuzzy, reviewed" in page.locator("#p-main-main\\.signs").inner_text()


def test_print_the_script(page: Any, shots: Callable[[Any, str], Path], tmp_path: Path) -> None:
    sign_in(page)
    page.goto("/console/script?lang=fr")
    assert page.get_by_role("button", name="Print or save as PDF").is_visible()
    page.emulate_media(media="print")
    assert not page.locator("header.top").is_visible()  # no navigation on paper
    pdf = page.pdf(path=str(tmp_path / "script.pdf"))
    assert pdf.startswith(b"%PDF") and len(pdf) > 5000
    page.emulate_media(media="screen")
    shots(page, "script-fr")


def test_every_page_passes_axe_and_fits_a_phone(browser: Any, server: str,
                                                shots: Callable[[Any, str], Path]) -> None:
    context = browser.new_context(base_url=server, viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        page.goto("/console/login")
        assert serious_violations(page) == []
        sign_in(page)
        for url in PAGES:
            page.goto(url)
            assert serious_violations(page) == [], url
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, (url, overflow)
            shots(page, "phone-" + url.strip("/").replace("/", "-").split("?")[0])
    finally:
        context.close()


def test_readable_at_200_percent_zoom(browser: Any, server: str) -> None:
    # 200 % zoom of a 1280 px window is the layout of a 640 px window with double-size text.
    context = browser.new_context(base_url=server, viewport={"width": 640, "height": 800},
                                  device_scale_factor=2)
    page = context.new_page()
    try:
        sign_in(page)
        for url in PAGES:
            page.goto(url)
            page.evaluate("document.documentElement.style.fontSize = '200%'")
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, (url, overflow)
    finally:
        context.close()


def test_console_is_unusable_once_signed_out(page: Any) -> None:
    sign_in(page)
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/console/login")
    page.goto("/console/activity")
    assert "/console/login" in page.url
    assert shutil.which("chromium") or Path(CHROMIUM).exists()
