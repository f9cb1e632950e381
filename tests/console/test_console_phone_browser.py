"""The Menu page on a phone (390 px wide, Debian's chromium): the whole tree on at most three
screens, any prompt within three taps, nothing wider than the screen."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.console.conftest import OPERATOR, PASSWORD

pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
from tests.console.test_console_browser import chromium, serving  # noqa: E402

pytestmark = pytest.mark.slow  # drives chromium

PHONE = {"width": 390, "height": 844}  # a common phone's CSS pixels
SCREENS = 3
TAPS = 3


def signed_in_phone(browser: Any, url: str) -> Any:
    context = browser.new_context(base_url=url, viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto("/console/login")
    page.locator("#name").fill(OPERATOR)
    page.locator("#password").fill(PASSWORD)
    page.locator("form.login button[type=submit]").click()
    page.wait_for_url("**/console/menu")
    return page


@pytest.mark.parametrize("language", ["fr", "sq"])
def test_the_menu_fits_a_phone_and_every_prompt_is_a_few_taps_away(
        console_app: Flask, language: str) -> None:
    console_app.config["CONSOLE_LANGUAGE"] = language  # the staff's, as a profile would say
    profile = console_app.extensions["hotline"].profile
    with serving(console_app) as url, chromium() as browser:
        page = signed_in_phone(browser, url)
        page.goto("/console/menu?lang=fr&ref=en")
        assert page.evaluate("document.documentElement.lang") == language
        height = page.evaluate("document.documentElement.scrollHeight")
        assert height <= SCREENS * PHONE["height"], f"{height} px tall"
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        reached: dict[str, int] = {}
        nodes = page.locator("details.node")
        for n in range(nodes.count()):
            node = nodes.nth(n)
            node.locator(":scope > summary").click()  # tap 1: the menu
            prompts = node.locator("details.prompt")
            for p in range(prompts.count()):
                prompt = prompts.nth(p)
                prompt.locator(":scope > summary").click()  # tap 2: the prompt
                text = prompt.locator("blockquote.prompt-text").first
                assert text.is_visible() and text.inner_text().strip()
                assert prompt.evaluate("e => e.scrollWidth") <= PHONE["width"]
                prompt_id = prompt.locator("summary code.prompt-id, summary code").first
                reached.setdefault(prompt_id.inner_text(), 2)
                prompt.locator(":scope > summary").click()  # fold it again
            node.locator(":scope > summary").click()
        assert set(reached) == set(profile.all_prompt_ids())
        assert max(reached.values()) <= TAPS
