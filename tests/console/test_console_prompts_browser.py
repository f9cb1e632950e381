"""Correcting and recording prompts in a real browser: Debian's chromium, a fake microphone.

Skipped (with the reason) only where chromium or Playwright is not installed.
"""

from __future__ import annotations

import io
import wave
from collections.abc import Callable, Iterator
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

from tests.console.conftest import OTHER, OTHER_PASSWORD  # noqa: E402
from tests.console.test_console_browser import (  # noqa: E402
    BROWSER_ARGS,
    chromium,
    serious_violations,
    serving,
    sign_in,
)
from tests.console.test_console_menu import UK_TALK, build, write_catalog  # noqa: E402
from tests.console.test_console_recordings import speech_like  # noqa: E402

pytestmark = pytest.mark.slow  # drives chromium

UK_CORRECTED = "Щоб поговорити з %(hotline)s просто зараз, натисніть %(key)s."
UK_CORRECTED_FILLED = "Щоб поговорити з INFOTRAITE просто зараз, натисніть 1."
LB_TALK = "Fir elo mat %(hotline)s ze schwätzen, dréckt %(key)s."


@pytest.fixture(scope="module")
def microphone_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What the fake microphone hears, over and over: 1.5 s of a warble between silences."""
    path = tmp_path_factory.mktemp("microphone") / "voice.wav"
    path.write_bytes(speech_like(rate=48_000, channels=1))
    return path


@pytest.fixture(scope="module")
def browser(microphone_file: Path) -> Iterator[Any]:
    args = [*BROWSER_ARGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-audio-capture={microphone_file}"]
    with chromium(args) as launched:
        yield launched


@pytest.fixture
def server(console_app: Flask, tmp_path: Path) -> Iterator[str]:
    """The console on a loopback port, with uk and lb catalogs and the published snapshot."""
    locales, prompts = tmp_path / "locales", tmp_path / "prompts"
    write_catalog(locales, "uk", {"main.talk": (UK_TALK, True)})
    write_catalog(locales, "lb", {"main.talk": (LB_TALK, True)})
    prompts.mkdir()
    hotline = build(locales, prompts)
    published = console_app.extensions["published"]
    hotline.prompter.published = published
    published.on_change.append(hotline.engine.forget_rendered)
    console_app.extensions["hotline"] = hotline
    console_app.config["TESTING"] = False
    with serving(console_app) as url:
        yield url


@pytest.fixture
def page(browser: Any, server: str) -> Iterator[Any]:
    context = browser.new_context(base_url=server, viewport={"width": 1200, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(20_000)
    yield opened
    context.close()


@pytest.fixture
def shots(tmp_path: Path) -> Callable[[Any, str], Path]:
    import os

    folder = Path(os.environ.get("CONSOLE_SCREENSHOTS") or tmp_path / "shots")
    folder.mkdir(parents=True, exist_ok=True)

    def take(page: Any, name: str) -> Path:
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def test_edit_approve_and_hear_a_ukrainian_text_in_try_it(
        page: Any, shots: Callable[[Any, str], Path]) -> None:
    sign_in(page)
    page.goto("/console/prompts/uk/main.talk")
    box = page.get_by_label("Ukrainian translation")
    box.fill("Щоб поговорити з %(hotline)s просто зараз, натисніть.")
    # Checked as one types, by the page's script: nothing has been sent yet.
    assert page.get_by_role("alert").inner_text() == "%(key)s is missing: the English has it."
    box.fill(UK_CORRECTED)
    assert page.locator("#problems").inner_text() == ""  # and hidden: no alert left
    assert page.locator("#preview").inner_text() == UK_CORRECTED_FILLED
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_selector("text=Main menu: talk to someone (main.talk) in Ukrainian: draft saved.")
    assert page.get_by_text("Another operator approves your draft.").is_visible()
    shots(page, "prompt-uk-draft")
    assert serious_violations(page) == []
    page.get_by_role("button", name="Sign out").click()
    page.goto("/console/prompts/uk/main.talk")
    page.get_by_label("Name").fill(OTHER)
    page.get_by_label("Password").fill(OTHER_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/console/prompts/uk/main.talk")
    page.get_by_role("button", name="Approve and publish").click()
    page.wait_for_selector("text=Main menu: talk to someone (main.talk) in Ukrainian: approved.")
    assert f"ana; approved by {OTHER}" in page.inner_text("table.versions")
    shots(page, "prompt-uk-approved")
    page.goto("/console/try")
    page.get_by_label("Time of the call").fill("2026-11-23T10:00")
    page.get_by_role("button", name="Start a call").click()
    page.wait_for_selector("text=Now: language menu, page 1")
    page.keyboard.press("6")
    page.wait_for_selector("text=Now: menu main")
    assert UK_CORRECTED_FILLED in page.inner_text("#heard")
    shots(page, "try-uk-approved")


def test_record_with_the_microphone_and_find_it_served(
        page: Any, shots: Callable[[Any, str], Path]) -> None:
    sign_in(page)
    page.goto("/console/prompts/lb/main.talk")
    assert serious_violations(page) == []
    page.get_by_role("button", name="Record", exact=True).click()
    page.wait_for_selector("text=Recording… read the text, then press Stop.")
    page.wait_for_timeout(3000)
    page.get_by_role("button", name="Stop").click()
    page.wait_for_selector("text=Listen back; submit it, or record again.")
    assert page.get_by_role("button", name="Record again").is_visible()
    playback = page.locator("#record-playback")
    playback.evaluate("audio => audio.play()")  # the take, from memory, before it is sent
    for _ in range(50):
        if playback.evaluate("audio => audio.currentTime") > 0:
            break
        page.wait_for_timeout(100)
    assert playback.evaluate("audio => audio.duration") > 2.5
    shots(page, "prompt-lb-recorded")
    page.get_by_role("button", name="Submit this recording").click()
    page.wait_for_selector(".flash")
    assert page.inner_text(".flashes").startswith(
        "Main menu: talk to someone (main.talk) in Luxembourgish: take saved")
    assert page.get_by_text("Another operator listens to it and approves it.").is_visible()
    shots(page, "prompt-lb-take")
    # A second person listens to the take and approves it: only then do callers hear it.
    page.get_by_role("button", name="Sign out").click()
    page.goto("/console/prompts/lb/main.talk")
    page.get_by_label("Name").fill(OTHER)
    page.get_by_label("Password").fill(OTHER_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/console/prompts/lb/main.talk")
    page.get_by_role("button", name="Approve this take and publish it").click()
    page.wait_for_selector(
        "text=Main menu: talk to someone (main.talk) in Luxembourgish: take approved.")
    assert page.get_by_text("Current recording").is_visible()
    shots(page, "prompt-lb-saved")
    assert serious_violations(page) == []
    served = page.request.get("/prompts/lb/main.talk.wav")
    assert served.status == 200
    with wave.open(io.BytesIO(served.body()), "rb") as reader:
        assert (reader.getframerate(), reader.getnchannels(), reader.getsampwidth()) == (
            8000, 1, 2)
        assert 0.3 <= reader.getnframes() / 8000 <= 3.5
    page.goto("/console/prompts/lb")
    row = page.get_by_role("row").filter(has_text="main.talk")
    assert "recording" in row.inner_text() and "current" in row.inner_text()


def test_new_pages_pass_axe(page: Any, shots: Callable[[Any, str], Path]) -> None:
    sign_in(page)
    for url in ("/console/", "/console/prompts/uk", "/console/prompts/uk/main.talk",
                "/console/prompts/lb/main.signs"):
        page.goto(url)
        assert serious_violations(page) == [], url
        shots(page, "new-" + url.strip("/").replace("/", "-"))
