"""The TwiML of key moments of a call, compared with reviewed files in tests/golden/voice/.

Each file is what Twilio would read to the caller: the words (in their language and voice),
the numbers dialled, where each key leads. To update after a change made on purpose, see
tests/golden_files.py.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from tests.conftest import Clock, twilio_post
from tests.golden_files import check_golden, readable_twiml
from tests.test_engine_dial import ONE_STEP, STEPS
from tests.twilio_world import World

# name → (profile, local time or None for the default Monday 10:00 in Luxembourg, path, form)
SCENARIOS: dict[str, tuple[str, str | None, str, dict[str, str]]] = {
    "lu-arrival-local": ("luxembourg", None, "/voice",
                         {"From": "+352621123456", "FromCountry": "LU"}),
    "lu-arrival-ukraine": ("luxembourg", None, "/voice", {"FromCountry": "UA"}),
    "lu-arrival-spain-page2": ("luxembourg", None, "/voice", {"FromCountry": "ES"}),
    "lu-language-page2": ("luxembourg", None, "/voice/language?p=1", {"Digits": "9"}),
    "lu-main-menu-uk": ("luxembourg", None, "/voice/language?p=1", {"Digits": "6"}),
    "lu-main-menu-lb-recorded": ("luxembourg", None, "/voice/language?p=1", {"Digits": "4"}),
    "lu-wrong-key-fr": ("luxembourg", None, "/voice/menu?l=fr&n=main", {"Digits": "8"}),
    "lu-connect-open-uk": ("luxembourg", None, "/voice/menu?l=uk&n=main", {"Digits": "1"}),
    "lu-connect-closed-ru": ("luxembourg", "2026-11-28T10:00:00", "/voice/menu?l=ru&n=main",
                             {"Digits": "1"}),
    "lu-connect-second-step-de": ("luxembourg", None, "/voice/dialed?l=de&d=infotraite&t=0",
                                  {"DialCallStatus": "no-answer"}),
    "lu-unanswered-ar": ("luxembourg", None, "/voice/dialed?l=ar&d=infotraite&t=1",
                         {"DialCallStatus": "busy"}),
    "lu-police-closed-fr": ("luxembourg", "2026-11-23T17:30:00", "/voice/menu?l=fr&n=main",
                            {"Digits": "4"}),
    "lu-police-open-en": ("luxembourg", None, "/voice/menu?l=en&n=main", {"Digits": "4"}),
    "lu-whisper-uk": ("luxembourg", None, "/voice/whisper?l=uk", {}),
    "lu-record-pt": ("luxembourg", None, "/voice/menu?l=pt&n=unanswered", {"Digits": "1"}),
    "lu-signs-sr": ("luxembourg", None, "/voice/menu?l=sr&n=main", {"Digits": "2"}),
    "xk-arrival-serbia": ("kosovo", None, "/voice", {"FromCountry": "RS"}),
    "xk-connect-sq": ("kosovo", None, "/voice/menu?l=sq&n=main", {"Digits": "1"}),
    "xk-unanswered-en": ("kosovo", None, "/voice/dialed?l=en&d=helpline&t=0",
                         {"DialCallStatus": "no-answer"}),
    "fixture-clinic-closed": (STEPS, "2026-11-24T10:30:00", "/voice/menu?l=en&n=main",
                              {"Digits": "3"}),
    "fixture-one-step-silence": (ONE_STEP, None, "/voice/language?p=1", {"Digits": ""}),
    # Ringing together (Twilio's REST API set: tests/twilio_world.py stands in for it).
    "lu-together-enqueue-uk": ("luxembourg", "2026-11-29T21:00:00", "/voice/menu?l=uk&n=main",
                               {"Digits": "1"}),
    "lu-together-wait-first-uk": ("luxembourg", "2026-11-29T21:00:00",
                                  "/voice/ring/wait?l=uk&d=infotraite&t=0&h=closed"
                                  "&c=ring-CAtest-0", {"QueueTime": "0"}),
    "lu-together-wait-later-uk": ("luxembourg", "2026-11-29T21:00:00",
                                  "/voice/ring/wait?l=uk&d=infotraite&t=0&h=closed"
                                  "&c=ring-CAtest-0", {"QueueTime": "12"}),
    "lu-together-wait-over": ("luxembourg", "2026-11-29T21:00:00",
                              "/voice/ring/wait?l=uk&d=infotraite&t=0&h=closed"
                              "&c=ring-CAtest-0", {"QueueTime": "35"}),
    "lu-together-leg-whisper-fr": ("luxembourg", "2026-11-29T21:00:00",
                                   "/voice/ring/leg?l=uk&c=ring-CAtest-0&g=1", {}),
    "lu-together-accept": ("luxembourg", "2026-11-29T21:00:00",
                           "/voice/ring/accept?l=uk&c=ring-CAtest-0&g=1", {"Digits": "1"}),
    "lu-together-taken-too-late": ("luxembourg", "2026-11-29T21:00:00",
                                   "/voice/ring/taken?l=uk", {"DialCallStatus": "no-answer"}),
    "lu-together-nobody-ar": ("luxembourg", "2026-11-29T21:00:00",
                              "/voice/ring/left?l=ar&d=infotraite&t=0&h=closed"
                              "&c=ring-CAtest-0", {"QueueResult": "leave", "QueueTime": "35"}),
}
ZONES = {"luxembourg": "Europe/Luxembourg", "kosovo": "Europe/Belgrade"}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_what_the_caller_hears(make_app: Callable[..., Flask], clock: Clock, name: str) -> None:
    profile, when, path, form = SCENARIOS[name]
    if when:
        clock.set(when, ZONES.get(profile, "Europe/London"))
    config = {"RING_API": World(), "TWILIO_REST_CHECK_SECONDS": 0} if "-together-" in name else {}
    response = twilio_post(make_app(profile, **config).test_client(), path, form)
    assert response.status_code == 200, response.get_data(as_text=True)
    check_golden(f"voice/{name}.xml", readable_twiml(response.get_data(as_text=True)))
