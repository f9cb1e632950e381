"""The voice hotline through its webhooks: every path of the menu, with signed requests."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from ivr.content.profile import KEY_BACK, KEY_PERSON, KEY_REPEAT, Profile
from ivr.voice.simulate import Step, parse_twiml
from ivr.voice.state import CallState
from tests.conftest import CALLER, HOTLINE, PUBLIC_BASE_URL, Clock, twilio_post

Post = Callable[..., TestResponse]


def twiml(response: TestResponse) -> Step:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/xml"
    return parse_twiml(response.get_data(as_text=True))


def state(url: str | None) -> CallState:
    assert url
    return CallState.from_url(url)


def profile_of(app: Flask) -> Profile:
    return app.extensions["hotline"].profile


# A caller from abroad: the greeting, then their language's option first, both in it.
SUGGESTED_FIRST = {
    'uk': ('INFOTRAITE: безкоштовна конфіденційна допомога. Щоб поговорити з людиною, залишайтеся на лінії. У небезпеці? Покладіть слухавку й телефонуйте 1 1 3.', 'Українською — натисніть 6.'),
    'ro': ('INFOTRAITE: ajutor gratuit și confidențial. Pentru a vorbi cu cineva, rămâneți la telefon. În pericol? Închideți și sunați la 1 1 3.', 'Română: apăsați 8.'),
    'es': ('INFOTRAITE: ayuda gratuita y confidencial. Para hablar con alguien, espere en línea. ¿En peligro? Cuelgue y llame al 1 1 3.', 'Español: pulse 9 y luego 1.'),
}

# What a caller hears first in each language's main menu: the three keys (lb and sq are
# recordings, so the audio file).
KEYS_EXPLAINED = {
    'fr': "À tout moment, appuyez sur 0 pour parler à quelqu'un, sur étoile pour revenir, ou sur dièse pour réécouter.",
    'en': 'At any time, press 0 to talk to a person, star to go back, or hash to hear this again.',
    'de': 'Sie können jederzeit 0 drücken, um mit einem Menschen zu sprechen, Stern, um zurückzugehen, oder Raute, um dies noch einmal zu hören.',
    'lb': 'https://hotline.example.org/prompts/lb/keys.explain.wav?v=9f022839af95',
    'pt': 'A qualquer momento, prima 0 para falar com uma pessoa, asterisco para voltar, ou cardinal para ouvir de novo.',
    'uk': 'Будь-коли натисніть 0, щоб поговорити з людиною, зірочку, щоб повернутися, або решітку, щоб почути це ще раз.',
    'ru': 'В любой момент нажмите 0, чтобы поговорить с человеком, звёздочку, чтобы вернуться, или решётку, чтобы прослушать ещё раз.',
    'ro': 'Oricând, apăsați 0 pentru a vorbi cu o persoană, steluța pentru a reveni, sau diez pentru a asculta din nou.',
    'es': 'En cualquier momento, pulse 0 para hablar con una persona, asterisco para volver, o almohadilla (numeral) para oírlo otra vez.',
    'zh': '您随时可以按0与人通话，按星号键返回，按井号键再听一遍。',
    'ar': 'في أي وقت، اضغط 0 للتحدث مع شخص، أو النجمة للرجوع، أو المربع للاستماع مرة أخرى.',
    'bg': 'По всяко време натиснете 0, за да говорите с човек, звездичка, за да се върнете, или диез, за да чуете това отново.',
    'sq': 'https://hotline.example.org/prompts/sq/keys.explain.wav?v=49dc8ad0b12b',
    'sr': 'U svakom trenutku pritisnite 0 da razgovarate sa osobom, zvezdicu za povratak, ili tarabu da ovo čujete ponovo.',
}


def heard_texts(step: Step) -> list[str]:
    return [h.text for h in step.heard]


def gather(step: Step) -> ET.Element:
    found = ET.fromstring(step.twiml).find("Gather")
    assert found is not None
    return found


# --- the language menu ----------------------------------------------------------------


LOCAL = {"From": "+352621123456", "FromCountry": "LU"}


def test_arrival_greets_then_offers_languages_inside_one_gather(app: Flask, post: Post) -> None:
    step = twiml(post("/voice", LOCAL))
    g = gather(step)
    # One wait of 5 s after the whole menu (Luxembourg's language_menu_timeout_seconds).
    assert g.get("numDigits") == "1" and g.get("timeout") == "5"
    assert g.get("actionOnEmptyResult") == "true" and g.get("finishOnKey") == ""
    # Every prompt is inside the gather, so a key stops it (barge-in).
    root = ET.fromstring(step.twiml)
    assert [child.tag for child in root] == ["Gather", "Redirect"]
    assert step.heard[0].text == ("INFOTRAITE : aide gratuite et confidentielle. Pour parler à "
                                  "quelqu'un, restez en ligne. En danger ? Raccrochez et "
                                  "appelez le 1 1 3.")
    assert "1 1 3" in step.heard[0].text  # 113 is said, never dialled
    assert state(step.gather_action) == CallState(page=1)


def test_each_language_option_is_spoken_in_its_own_language(app: Flask, post: Post) -> None:
    profile = profile_of(app)
    step = twiml(post("/voice", LOCAL))
    options = step.heard[1:1 + len(profile.language_page(1))]
    for heard, lang in zip(options, profile.language_page(1), strict=True):
        expected = app.extensions["hotline"].prompter.utterance(
            lang.code, "language.option", key=lang.key)
        assert expected.lang == lang.code, f"{lang.code} has no translation of its option"
        if expected.audio_url:
            assert heard.kind == "play" and heard.text == PUBLIC_BASE_URL + expected.audio_url
        else:
            assert (heard.text, heard.language) == (expected.text, lang.say_language)
    # "Stay on the line to talk to someone" is in the greeting; it is not repeated at the end.
    assert step.heard[0].text == "INFOTRAITE : aide gratuite et confidentielle. Pour parler à quelqu'un, restez en ligne. En danger ? Raccrochez et appelez le 1 1 3."
    assert step.heard[-1].text == "Pour d'autres langues, appuyez sur 9."
    again = twiml(post(step.gather_action, {"Digits": KEY_REPEAT}))
    assert again.heard[-1].text == "Pour parler à quelqu'un maintenant, appuyez sur 0."


@pytest.mark.parametrize(("form", "first_code"), [
    ({"FromCountry": "UA"}, "uk"),
    ({"FromCountry": "RO"}, "ro"),
    ({"FromCountry": "", "From": "+40721234567"}, "ro"),  # no FromCountry: the prefix
    ({"FromCountry": "ES"}, "es"),  # on page 2: "press 9, then 1"
])
def test_the_callers_country_puts_its_language_first(app: Flask, post: Post, form: dict[str, str],
                                                     first_code: str) -> None:
    profile = profile_of(app)
    step = twiml(post("/voice", form))
    lang = profile.languages[first_code]
    assert state(step.gather_action).suggested == first_code
    assert heard_texts(step)[:2] == list(SUGGESTED_FIRST[first_code])
    # The same keys as for everybody else.
    chosen = twiml(post(step.gather_action, {"Digits": "9"})) if lang.page == 2 else step
    menu = twiml(post(chosen.gather_action, {"Digits": lang.key}))
    assert state(menu.gather_action).lang == first_code


def test_a_caller_from_the_hotlines_own_country_gets_no_suggestion(post: Post) -> None:
    step = twiml(post("/voice", {"FromCountry": "LU", "From": "+352621123456"}))
    assert state(step.gather_action).suggested is None


@pytest.mark.parametrize("code", ["fr", "en", "de", "lb", "pt", "uk", "ru", "ro",
                                  "es", "zh", "ar", "bg", "sq", "sr"])
def test_every_language_is_reached_by_its_keys(app: Flask, post: Post, code: str) -> None:
    lang = profile_of(app).languages[code]
    step = twiml(post("/voice", LOCAL))
    for key in ["9"] * (lang.page - 1) + [lang.key]:
        step = twiml(post(step.gather_action, {"Digits": key}))
    assert state(step.gather_action) == CallState(lang=code, node="main")
    # The three keys are announced once, first; then the main menu's five options.
    assert step.heard[0].text == KEYS_EXPLAINED[code]
    assert len(step.heard) == 1 + 5


def test_star_on_the_second_page_goes_back(post: Post) -> None:
    page2 = twiml(post("/voice/language?p=2", {"Digits": KEY_BACK}))
    assert state(page2.gather_action).page == 1


def test_zero_in_the_language_menu_connects_a_person(post: Post) -> None:
    step = twiml(post("/voice/language?p=1", {"Digits": KEY_PERSON}))
    assert step.dial_numbers == ["+35227365646"]


def test_silence_after_the_language_menu_rings_at_once(app: Flask, post: Post,
                                                       clock: Clock) -> None:
    """One wait, then the ring tone: no second pass, no hold message in between."""
    clock.set("2026-11-28 23:00")  # Saturday night: the mobiles
    step = twiml(post("/voice/language?p=1&r=0&w=0&s=uk", {"Digits": ""}))
    assert step.dial_numbers == ["+352621351884"] and not step.gather_action
    assert step.heard == []
    # The first of the step's two mobiles; the second (o=1) rings next.
    assert state(step.dial_action) == CallState(suggested="uk", destination="infotraite",
                                                hours="closed", solo=(1,))


def test_wrong_keys_in_the_language_menu(app: Flask, post: Post) -> None:
    step = twiml(post("/voice/language?p=2&r=0&w=0", {"Digits": "8"}))
    assert step.heard[0].text == "Cette touche n'est pas dans ce menu."
    assert state(step.gather_action) == CallState(page=2, wrong=1)
    step = twiml(post(step.gather_action, {"Digits": "7"}))
    assert state(step.gather_action).wrong == 2
    step = twiml(post(step.gather_action, {"Digits": "8"}))
    assert step.dial_numbers  # the third wrong key connects to a person


# --- the menus, every path --------------------------------------------------------------


def all_options(profile: Profile) -> list[tuple[str, str]]:
    return [(node.name, option.key) for node in profile.nodes.values()
            for option in node.options]


def test_every_option_of_both_profiles_does_what_the_profile_says(
        any_app: Flask, clock: Clock) -> None:
    client = any_app.test_client()
    profile = profile_of(any_app)
    for lang in profile.languages:
        for node_name, key in all_options(profile):
            option = profile.nodes[node_name].option(key)
            assert option
            step = twiml(twilio_post(client, f"/voice/menu?l={lang}&n={node_name}&r=0&w=0",
                                     {"Digits": key}))
            if option.action == "goto":
                assert state(step.gather_action) == CallState(lang=lang, node=option.target)
            elif option.action == "connect":
                destination = profile.destinations[option.target or ""]
                assert step.dial_numbers == [destination.open_steps[0][0]]  # one phone at a time
                assert state(step.dial_action) == CallState(lang=lang,
                                                            destination=destination.name,
                                                            hours="open")
            elif option.action == "record":
                assert step.record_action == f"{PUBLIC_BASE_URL}/voice/recorded?l={lang}"
            elif option.action == "send_sms":
                assert state(step.gather_action).node == profile.start_node
            else:
                pytest.fail(f"untested action {option.action}")


def test_every_node_in_every_language_is_spoken_with_language_and_voice(
        any_app: Flask) -> None:
    client = any_app.test_client()
    profile = profile_of(any_app)
    for lang in profile.languages:
        for node in profile.nodes:
            step = twiml(twilio_post(client, f"/voice/menu?l={lang}&n={node}&r=0&w=0",
                                     {"Digits": KEY_REPEAT}))
            assert step.heard, (lang, node)
            for heard in step.heard:
                if heard.kind == "say":
                    assert heard.language and heard.voice, (lang, node, heard)
                    assert "%(" not in heard.text, (lang, node, heard.text)
                else:
                    assert heard.text.startswith(f"{PUBLIC_BASE_URL}/prompts/{lang}/"), \
                        heard.text


def test_signs_say_the_five_situations_then_one_group_per_key(app: Flask, post: Post) -> None:
    step = twiml(post("/voice/menu?l=en&n=main", {"Digits": "2"}))
    situations = step.heard[0].text
    assert situations.startswith("You may be in one of these situations.")
    for situation in ["forced to do what you do not want", "not paid, or paid too little",
                      "threats or violence", "documents were taken", "held and cut off"]:
        assert situation in situations
    assert len(step.heard) == 2  # the situations, then "for more signs, press 1"
    groups = twiml(post(step.gather_action, {"Digits": "1"}))
    assert len(groups.heard) == 5
    group = twiml(post(groups.gather_action, {"Digits": "3"}))
    assert group.heard[0].text.startswith("Fear.")
    assert group.heard[-1].text == 'To talk to someone now, press 0. To go back, press star.'
    assert "press 0" in group.heard[-1].text


def test_kinds_and_help_say_anonymous_and_free(post: Post) -> None:
    step = twiml(post("/voice/menu?l=en&n=main", {"Digits": "3"}))
    assert "anonymously and for free" in step.heard[0].text
    kinds = [twiml(post(step.gather_action, {"Digits": k})).heard[0].text.split(".")[0]
             for k in "12345"]
    assert kinds == ["Sexual exploitation", "Exploitation at work", "Forced begging",
                     "Forced crimes", "Trafficking of children"]


@pytest.mark.parametrize(("node", "key", "expected_node"), [
    ("signs_fear", KEY_BACK, "signs_groups"),
    ("signs_groups", KEY_BACK, "signs"),
    ("signs", KEY_BACK, "main"),
    ("kinds_children", KEY_BACK, "kinds"),
    ("sms_confirm", KEY_BACK, "main"),
    ("unanswered", KEY_BACK, "main"),
    ("signs", KEY_REPEAT, "signs"),
    ("main", KEY_REPEAT, "main"),
])
def test_back_and_repeat(post: Post, node: str, key: str, expected_node: str) -> None:
    step = twiml(post(f"/voice/menu?l=de&n={node}&r=1&w=2", {"Digits": key}))
    assert state(step.gather_action) == CallState(lang="de", node=expected_node)


def test_back_from_the_main_menu_returns_to_the_languages_page(post: Post) -> None:
    step = twiml(post("/voice/menu?l=es&n=main", {"Digits": KEY_BACK}))
    assert state(step.gather_action).page == 2


@pytest.mark.parametrize("node", ["main", "signs", "signs_unstable", "kinds", "sms_confirm",
                                  "police_closed"])
def test_zero_connects_a_person_from_every_menu(post: Post, node: str) -> None:
    step = twiml(post(f"/voice/menu?l=pt&n={node}", {"Digits": KEY_PERSON}))
    assert step.dial_numbers == ["+35227365646"]


@pytest.mark.parametrize("node", ["main", "signs", "kinds_labour", "sms_confirm"])
def test_two_silent_waits_connect_a_person(post: Post, node: str) -> None:
    first = twiml(post(f"/voice/menu?l=ru&n={node}&r=0&w=0", {"Digits": ""}))
    assert state(first.gather_action) == CallState(lang="ru", node=node, silent=1)
    second = twiml(post(first.gather_action, {"Digits": ""}))
    assert second.dial_numbers == ["+35227365646"]


def test_a_missing_digits_field_counts_as_silence(post: Post) -> None:
    step = twiml(post("/voice/menu?l=ru&n=main&r=0&w=0"))
    assert state(step.gather_action).silent == 1


def test_a_wrong_key_is_named_and_the_menu_replayed(app: Flask, post: Post) -> None:
    step = twiml(post("/voice/menu?l=uk&n=signs&r=0&w=0", {"Digits": "7"}))
    assert step.heard[0].text == 'Такої клавіші немає в цьому меню.'
    assert step.heard[1].text == 'Можливо, ви в одній із таких ситуацій. Вас примушують робити те, чого ви не хочете. Вам не платять або платять занадто мало. Вам або вашій сім’ї погрожують чи чинять насильство. У вас забрали документи. Вас утримують в ізоляції від інших.'
    assert state(step.gather_action).wrong == 1
    step = twiml(post(step.gather_action, {"Digits": "8"}))
    step = twiml(post(step.gather_action, {"Digits": "9"}))
    assert step.dial_numbers  # the third wrong key


@pytest.mark.parametrize("digits", ["12", "ab", "**", "9" * 50, "\u0661"])
def test_anything_but_one_key_is_a_wrong_key(post: Post, digits: str) -> None:
    step = twiml(post("/voice/menu?l=en&n=main&r=0&w=0", {"Digits": digits}))
    assert state(step.gather_action) == CallState(lang="en", node="main", wrong=1)


@pytest.mark.parametrize("query", ["l=xx&n=main", "n=main", "l=en&n=nowhere", "l=en&n=main&r=-5",
                                   "l=en&n=main&r=abc&w=", "l=%FF&n=%00"])
def test_a_garbled_url_still_gets_a_menu(post: Post, query: str) -> None:
    step = twiml(post(f"/voice/menu?{query}", {"Digits": "1"}))
    assert step.gather_action or step.dial_numbers


# --- connecting to a person: hours, ring steps, whisper ---------------------------------


HOLIDAYS_AND_CLOSED = [
    "2026-11-23 08:59",  # Monday, before opening
    "2026-11-23 12:30",  # lunch
    "2026-11-23 17:00",  # closing time
    "2026-11-28 10:00",  # Saturday
    "2026-12-25 10:00",  # Christmas, a Friday
    "2026-06-23 10:00",  # National Day, a Tuesday
    "2026-05-09 11:00",  # Europe Day, a Saturday anyway
    "2026-05-14 10:00",  # Ascension Day, a Thursday
]


@pytest.mark.parametrize("moment", ["2026-11-23 09:00", "2026-11-24 11:59", "2026-11-27 16:59"])
def test_in_office_hours_the_landline_rings_first_then_each_mobile(
        post: Post, clock: Clock, moment: str) -> None:
    clock.set(moment)
    step = twiml(post("/voice/menu?l=en&n=main", {"Digits": "1"}))
    assert step.dial_numbers == ["+35227365646"]
    step = twiml(post(step.dial_action, {"DialCallStatus": "no-answer", "DialBridged": "false"}))
    assert step.dial_numbers == ["+352621351884"]
    assert (state(step.dial_action).step, state(step.dial_action).solo) == (1, (1,))
    step = twiml(post(step.dial_action, {"DialCallStatus": "no-answer", "DialBridged": "false"}))
    assert step.dial_numbers == ["+352621316919"]
    assert (state(step.dial_action).step, state(step.dial_action).solo) == (1, ())


@pytest.mark.parametrize("moment", HOLIDAYS_AND_CLOSED)
def test_out_of_hours_and_on_holidays_the_mobiles_ring(post: Post, clock: Clock,
                                                       moment: str) -> None:
    clock.set(moment)
    step = twiml(post("/voice/menu?l=en&n=main", {"Digits": "1"}))
    assert step.dial_numbers == ["+352621351884"]
    step = twiml(post(step.dial_action, {"DialCallStatus": "no-answer", "DialBridged": "false"}))
    assert step.dial_numbers == ["+352621316919"]


def test_the_clock_is_read_in_the_hotlines_time_zone(post: Post, clock: Clock) -> None:
    clock.set("2026-11-23 08:30", "UTC")  # 09:30 in Luxembourg
    step = twiml(post("/voice/menu?l=en&n=main", {"Digits": "1"}))
    assert step.dial_numbers == ["+35227365646"]


@pytest.mark.parametrize(("moment", "open_"), [
    ("2026-11-23 08:00", True), ("2026-11-23 15:59", True), ("2026-11-23 16:00", False),
    ("2026-11-23 07:59", False), ("2026-11-28 10:00", False), ("2026-12-25 10:00", False)])
def test_the_police_line_keeps_its_own_hours(app: Flask, post: Post, clock: Clock, moment: str,
                                             open_: bool) -> None:
    clock.set(moment)
    step = twiml(post("/voice/menu?l=fr&n=main", {"Digits": "4"}))
    if open_:
        assert step.dial_numbers == ["+352244603220"]
        return
    assert not step.dial_numbers
    assert state(step.gather_action).node == "police_closed"
    spoken = step.heard[0].text
    assert spoken == "La ligne de la police contre la traite des êtres humains répond du lundi au vendredi 08:00\u2009–\u200916:00. Elle est fermée maintenant. En cas d'urgence, appelez le 1 1 3 à toute heure." and "1 1 3" in spoken
    # Offered instead: a voice message, the numbers by text; never INFOTRAITE's phones
    # again (the caller may come here after they rang unanswered).
    assert twiml(post(step.gather_action, {"Digits": "1"})).record_action
    sms = twiml(post(step.gather_action, {"Digits": "2"}))
    assert state(sms.gather_action).node == "sms_confirm"


def test_nobody_accepting_is_never_a_hang_up(app: Flask, post: Post) -> None:
    step = twiml(post("/voice/menu?l=uk&n=main", {"Digits": "1"}))
    for _ in range(3):  # the landline, then each mobile (in office hours)
        assert step.dial_numbers
        step = twiml(post(step.dial_action, {"DialCallStatus": "no-answer",
                                             "DialBridged": "false"}))
    assert not step.hangup
    assert state(step.gather_action).node == "unanswered"
    assert step.heard[-1].text == 'У надзвичайній ситуації покладіть слухавку і телефонуйте 1 1 3.'
    # Pressing nothing here leaves a voice message: they already waited for a person.
    step = twiml(post(step.gather_action, {"Digits": ""}))
    step = twiml(post(step.gather_action, {"Digits": ""}))
    assert step.record_action


@pytest.mark.parametrize("status", ["busy", "failed", "no-answer", "canceled"])
def test_a_failed_ring_step_moves_on(post: Post, status: str) -> None:
    step = twiml(post("/voice/dialed?l=en&d=infotraite&t=0", {"DialCallStatus": status}))
    assert step.dial_numbers == ["+352621351884"]


def test_a_bridged_call_ends_when_the_conversation_does(post: Post) -> None:
    step = twiml(post("/voice/dialed?l=en&d=infotraite&t=0",
                      {"DialCallStatus": "completed", "DialBridged": "true"}))
    assert step.hangup and not step.dial_numbers


def test_a_declined_whisper_is_not_taken_for_a_conversation(post: Post) -> None:
    """A voicemail or a person who does not press 1: completed but not bridged."""
    step = twiml(post("/voice/dialed?l=en&d=infotraite&t=0",
                      {"DialCallStatus": "completed", "DialBridged": "false"}))
    assert step.dial_numbers == ["+352621351884"]


@pytest.mark.parametrize("status", ["completed", "answered"])
def test_without_dial_bridged_an_answered_dial_is_no_proof(post: Post, status: str) -> None:
    """A declined whisper also ends "completed": without DialBridged the next phone rings."""
    step = twiml(post("/voice/dialed?l=en&d=infotraite&t=0", {"DialCallStatus": status}))
    assert step.dial_numbers == ["+352621351884"] and not step.hangup


def test_every_ringing_number_hears_the_whisper_first(post: Post) -> None:
    step = twiml(post("/voice/menu?l=uk&n=main", {"Digits": "1"}))
    numbers = ET.fromstring(step.twiml).findall("Dial/Number")
    assert numbers and all(n.get("url") == f"{PUBLIC_BASE_URL}/voice/whisper?l=uk"
                           for n in numbers)
    dial = ET.fromstring(step.twiml).find("Dial")
    assert dial is not None and dial.get("answerOnBridge") == "true"


def test_the_whisper_names_the_callers_language_in_the_staffs(app: Flask, post: Post) -> None:
    step = twiml(post("/voice/whisper?l=uk"))
    g = gather(step)
    assert g.get("numDigits") == "1" and state(g.get("action")) == CallState(lang="uk")
    expected = "Langue choisie : ukrainien. Appel de la ligne d'aide. Appuyez sur 1 pour accepter l'appel."
    assert heard_texts(step) == [expected, expected]
    assert step.hangup  # no key (a voicemail): the leg ends, the caller is not bridged


def test_the_whisper_without_a_language(app: Flask, post: Post) -> None:
    step = twiml(post("/voice/whisper"))
    assert step.heard[0].text == ("Langue choisie : pas encore de langue. Appel de la ligne "
                                  "d'aide. Appuyez sur 1 pour accepter l'appel.")


@pytest.mark.parametrize(("digits", "accepted"), [("1", True), ("2", False), ("", False),
                                                  ("11", False), ("*", False)])
def test_only_one_accepts_the_call(post: Post, digits: str, accepted: bool) -> None:
    step = twiml(post("/voice/whisper/answer?l=uk", {"Digits": digits}))
    assert step.hangup is not accepted
    assert not step.heard


def test_the_helpline_sees_the_hotlines_number(post: Post) -> None:
    step = twiml(post("/voice/menu?l=en&n=main", {"Digits": "1"}))
    assert step.caller_id == HOTLINE


def test_a_profile_may_show_the_callers_number(make_app: Callable[..., Flask], tmp_path: Any,
                                               ) -> None:
    from ivr.content.profile import PROFILES_DIR

    text = (PROFILES_DIR / "luxembourg.toml").read_text(encoding="utf-8")
    path = tmp_path / "shown.toml"
    path.write_text(text.replace("show_caller_number = false", "show_caller_number = true"),
                    encoding="utf-8")
    client = make_app(str(path)).test_client()
    step = twiml(twilio_post(client, "/voice/menu?l=en&n=main", {"Digits": "1"}))
    assert step.caller_id == CALLER


def test_no_emergency_number_is_ever_dialled(any_app: Flask, clock: Clock) -> None:
    client = any_app.test_client()
    profile = profile_of(any_app)
    dialled: set[str] = set()
    for moment in ["2026-11-23 10:00", "2026-11-23 20:00", "2026-12-25 10:00"]:
        clock.set(moment)
        for node_name, key in all_options(profile) + [("main", "0")]:
            step = twiml(twilio_post(client, f"/voice/menu?l=en&n={node_name}",
                                     {"Digits": key}))
            while step.dial_numbers:
                dialled.update(step.dial_numbers)
                step = twiml(twilio_post(client, step.dial_action or "",
                                         {"DialCallStatus": "no-answer"}))
    fallback = parse_twiml(any_app.extensions["hotline"].fallback_twiml)
    dialled.update(fallback.dial_numbers)
    assert dialled
    for number in dialled:
        assert number.lstrip("+") not in {"112", "113", "192"}
        assert len(number) > 8


# --- voice messages and numbers by text -------------------------------------------------


def test_a_voice_message_is_recorded_then_thanked(app: Flask, post: Post) -> None:
    step = twiml(post("/voice/menu?l=ar&n=unanswered", {"Digits": "1"}))
    record = ET.fromstring(step.twiml).find("Record")
    assert record is not None
    assert record.get("recordingStatusCallback") == f"{PUBLIC_BASE_URL}/voice/recording?l=ar"
    assert record.get("finishOnKey") == "#" and record.get("playBeep") == "true"
    thanks = twiml(post(step.record_action, {"RecordingDuration": "14"}))
    # "اتصل بالرقم": no detached "بـ" before the digits (review A2)
    assert thanks.heard[0].text == ('شكرًا. وصلت رسالتك إلى خط المساعدة. إذا كنت في خطر، اتصل '
                                    'بالرقم 1 1 3.')
    assert thanks.hangup


def test_an_empty_recording_offers_the_menu_again(app: Flask, post: Post) -> None:
    step = twiml(post("/voice/recorded?l=bg", {"RecordingDuration": "0"}))
    assert step.heard[0].text == 'Не чухме съобщение.'
    assert state(step.gather_action).node == "unanswered"


def test_the_sms_needs_a_yes_first(post: Post, app: Flask) -> None:
    outbox = app.extensions["sms_sender"]
    step = twiml(post("/voice/menu?l=uk&n=main", {"Digits": "5"}))
    assert state(step.gather_action).node == "sms_confirm"
    assert outbox.sent == []
    twiml(post(step.gather_action, {"Digits": "2"}))
    assert outbox.sent == []


def test_the_numbers_are_sent_once_the_caller_says_it_is_safe(app: Flask, post: Post) -> None:
    outbox = app.extensions["sms_sender"]
    step = twiml(post("/voice/menu?l=en&n=sms_confirm", {"Digits": "1"}))
    assert step.heard[0].text == 'The numbers have been sent to this phone by text message.'
    assert state(step.gather_action).node == "main"
    [(to, from_, body)] = outbox.sent
    assert (to, from_) == (CALLER, HOTLINE)
    for number in ["+352 27 36 56 46", "+352 621 351 884", "+352 621 316 919", "113"]:
        assert number in body
    # Discreet: nothing that names trafficking on a phone someone else may read.
    assert "traffick" not in body.lower()


def test_a_landline_gets_the_number_read_instead(app: Flask, post: Post) -> None:
    outbox = app.extensions["sms_sender"]
    step = twiml(post("/voice/menu?l=en&n=sms_confirm", {"Digits": "1",
                                                         "From": "+35227000000"}))
    assert outbox.sent == []
    assert step.heard[0].text == "We could not send a text message. The helpline's number is 0 0 3 5 2, 2 7, 3 6, 5 6, 4 6."
    assert "0 0 3 5 2, 2 7, 3 6, 5 6, 4 6" in step.heard[0].text


def test_a_failing_sms_service_costs_the_caller_nothing(make_app: Callable[..., Flask]) -> None:
    def broken_sender(to: str, from_: str, body: str) -> bool:
        raise RuntimeError("Twilio is down")

    client = make_app(SMS_SENDER=broken_sender).test_client()
    step = twiml(twilio_post(client, "/voice/menu?l=en&n=sms_confirm", {"Digits": "1"}))
    assert "0 0 3 5 2, 2 7, 3 6, 5 6, 4 6" in step.heard[0].text
    assert step.gather_action
