"""What callers hear and read is right in every language (issue #12): numbers they can dial
from a foreign SIM, one script at a time, readable right-to-left SMS, hours that read well."""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import pytest

from ivr.content.i18n import language_name
from ivr.content.prompt_set import ProfileSet, PromptSet
from ivr.content.speech import is_part_of_other_prompts, spoken_digits, written_number
from ivr.sms.text import count_segments, gsm_friendly
from tests.conftest import PROFILES

# Prompts that only a text message carries; every other prompt can be said by <Say>.
SAID_SMS_PROMPTS = {"sms.confirm", "sms.confirm.yes", "sms.confirm.no", "sms.sent", "sms.failed"}
# Said only in English (speech.NAMED_OPTIONS): their translations are never heard.
NEVER_SAID = {"language.named_option", "language.named_option_next_page"}
NON_LATIN = {"uk", "ru", "bg", "zh", "ar"}
LRI, PDI = "\u2066", "\u2069"


@cache
def profile_set(name: str) -> ProfileSet:
    (found,) = PromptSet.load([PROFILES[name]]).profiles
    return found


def spoken_prompt_ids(ps: ProfileSet) -> list[str]:
    return [pid for pid in ps.profile.all_prompt_ids()
            if not is_part_of_other_prompts(pid) and pid not in NEVER_SAID
            and (not pid.startswith("sms.") or pid in SAID_SMS_PROMPTS)]


def sms_prompt_ids(ps: ProfileSet) -> list[str]:
    return [pid for pid in ps.profile.all_prompt_ids()
            if pid.startswith("sms.") and pid not in SAID_SMS_PROMPTS]


def fillings(ps: ProfileSet, lang: str, prompt_id: str) -> list[dict[str, str]]:
    """The values the engine fills in: each destination (by its label, as the engine
    passes it), a key, the next-page key, and for the whisper a language name."""
    base = {"key": "1", "more": "9"}
    if prompt_id == "whisper":
        base["language"] = language_name("uk", lang)
    return [{**base, "destination": d.label} for d in ps.profile.destinations.values()]


CASES = [(name, code) for name in sorted(PROFILES)
         for code in profile_set(name).profile.languages]


# --- numbers ----------------------------------------------------------------------------

def test_a_number_is_said_with_its_international_prefix_in_the_profiles_grouping() -> None:
    assert spoken_digits("+352 27 36 56 46", "LU") == "0 0 3 5 2, 2 7, 3 6, 5 6, 4 6"
    assert spoken_digits("+352 24 460 3220", "LU") == "0 0 3 5 2, 2 4, 4 6 0, 3 2 2 0"
    assert spoken_digits("0800 11112", "XK") == "0 0 3 8 3, 8 0 0, 1 1 1 1 2"
    assert spoken_digits("113", "LU") == "1 1 3"  # a short code is dialled as it is


def test_a_written_number_keeps_the_profiles_grouping_and_is_isolated_right_to_left() -> None:
    assert written_number("+352 24 460 3220", "LU") == "+352 24 460 3220"
    assert written_number("0800 11112", "XK") == "+383 800 11112"
    assert written_number("+352 27 36 56 46", "LU", True) == f"{LRI}+352 27 36 56 46{PDI}"
    assert written_number("113", "LU", True) == f"{LRI}113{PDI}"


# Digits said one by one in groups: "0 0 3 5 2, 2 7, …" (a short code has no comma).
SPOKEN_NUMBER = re.compile(r"\d(?: \d)*(?:, \d(?: \d)*)+")


@pytest.mark.parametrize(("profile_name", "lang"), CASES)
def test_every_spoken_number_starts_with_the_international_prefix(
        profile_name: str, lang: str) -> None:
    ps = profile_set(profile_name)
    prefix = {"luxembourg": "0 0 3 5 2, ", "kosovo": "0 0 3 8 3, "}[profile_name]
    found = 0
    for prompt_id in spoken_prompt_ids(ps):
        for extra in fillings(ps, lang, prompt_id):
            text, _ = ps.prompter.text(lang, prompt_id, extra)
            numbers = list(SPOKEN_NUMBER.finditer(text))
            for i, number in enumerate(numbers):
                found += 1
                if number.group().startswith(prefix):
                    continue
                # A toll-free number's national form ("0 8 0 0, …") is said only right
                # before the same number with the international prefix ("… or 0 0 3 8 3").
                following = numbers[i + 1] if i + 1 < len(numbers) else None
                assert number.group().startswith("0 8 0 0, ") and following, (prompt_id, text)
                assert following.group().startswith(prefix), (prompt_id, text)
                assert len(text[number.end():following.start()].split()) == 1, text
    assert found >= 1  # sms.failed says the helpline's number in every language


# --- one script at a time ---------------------------------------------------------------

def _script(word: str) -> str:
    letters = [unicodedata.name(c, "").split(" ")[0] for c in word if c.isalpha()]
    return letters[0] if letters else ""


def latin_runs(text: str) -> list[str]:
    """Runs of two or more Latin-script words in a row (one word is a name: INFOTRAITE)."""
    runs, current = [], []
    for word in re.findall(r"\w+", text):
        if word.isdigit():
            continue
        if _script(word) == "LATIN":
            current.append(word)
        else:
            if len(current) > 1:
                runs.append(" ".join(current))
            current = []
    if len(current) > 1:
        runs.append(" ".join(current))
    return runs


@pytest.mark.parametrize(("profile_name", "lang"), CASES)
def test_no_say_mixes_in_a_run_of_another_script(profile_name: str, lang: str) -> None:
    ps = profile_set(profile_name)
    mixed = []
    for prompt_id in spoken_prompt_ids(ps):
        for extra in fillings(ps, lang, prompt_id):
            said = ps.prompter.utterance(lang, prompt_id, **extra)
            if said.audio_url or said.lang != lang:
                continue  # a recording, or English announced as English
            if lang in NON_LATIN:
                if latin_runs(said.text):
                    mixed.append((prompt_id, latin_runs(said.text)))
            elif any(_script(w) == "CYRILLIC" for w in re.findall(r"\w+", said.text)):
                mixed.append((prompt_id, said.text))
    assert mixed == []


def test_the_latin_run_check_can_fail() -> None:
    text = "З’єднуємо вас із Police judiciaire, traite des êtres humains. Дякуємо, INFOTRAITE"
    assert latin_runs(text) == ["Police judiciaire traite des êtres humains"]
    assert latin_runs("З’єднуємо вас із INFOTRAITE.") == []


def test_a_destination_is_said_in_the_callers_language() -> None:
    ps = profile_set("luxembourg")
    label = ps.profile.destinations["police"].label
    assert ps.prompter.text("en", "connect.hold", {"destination": label})[0] == (
        "Connecting you to the police's human trafficking unit. Please stay on the line.")
    uk, _ = ps.prompter.text("uk", "connect.hold", {"destination": label})
    assert uk.startswith("З’єднуємо вас із відділом поліції з протидії торгівлі людьми.")
    kosovo = profile_set("kosovo")
    label = kosovo.profile.destinations["helpline"].label
    sr, _ = kosovo.prompter.text("sr", "connect.hold", {"destination": label})
    assert sr.startswith("Povezujemo vas sa linijom za pomoć žrtvama.")
    # Named by what it offers, not by the institution a frightened caller may fear (K4).
    en, _ = kosovo.prompter.text("en", "connect.hold", {"destination": label})
    assert en.startswith("Connecting you to the victims' helpline.")
    assert kosovo.prompter.params("en")["hotline"] == "the Helpline"
    assert kosovo.prompter.params("sq")["hotline"] == "Linja e ndihmës"


# --- text messages ----------------------------------------------------------------------

WRITTEN_NUMBER = re.compile(r"\+?\d[\d :–-]*\d")


def test_every_written_number_in_an_arabic_sms_is_isolated() -> None:
    ps = profile_set("luxembourg")  # Kosovo offers no Arabic
    checked = 0
    for prompt_id in sms_prompt_ids(ps):
        text, used = ps.prompter.text("ar", prompt_id, {"case": "K7M2", "keywords": "AIDE"},
                                      written=True)
        if used != "ar":
            continue
        text = gsm_friendly(text)
        for number in WRITTEN_NUMBER.finditer(text):
            checked += 1
            before, after = text[:number.start()], text[number.end():]
            assert before.endswith(LRI) and after.startswith(PDI), (prompt_id, text)
    assert checked >= 10


@pytest.mark.parametrize(("profile_name", "lang"), CASES)
def test_the_bilingual_acknowledgement_fits_two_segments(profile_name: str, lang: str) -> None:
    ps = profile_set(profile_name)
    default = ps.profile.default_language
    text = gsm_friendly(ps.prompter.text(default, "sms.ack.short", written=True)[0] + "\n"
                        + ps.prompter.text("en", "sms.ack.short", written=True)[0])
    assert count_segments(text).count <= 2


# --- office hours -----------------------------------------------------------------------

POLICE_HOURS = {  # written (SMS), as CLDR's interval for "Hm" and the translated day range
    "fr": "du lundi au vendredi 08:00–16:00",
    "de": "Montag bis Freitag 08:00–16:00 Uhr",
    "pt": "de segunda-feira a sexta-feira 08:00–16:00",
    "uk": "понеділок – пʼятниця 08:00–16:00",
    "zh": "星期一至星期五 08:00–16:00",
    "ar": f"من الاثنين إلى الجمعة {LRI}08:00–16:00{PDI}",
    "bg": "от понеделник до петък 8:00–16:00",  # no "ч.." before the next sentence
    "sq": "e hënë – e premte 08:00–16:00",
}


@pytest.mark.parametrize(("lang", "expected"), sorted(POLICE_HOURS.items()))
def test_hours_are_written_from_cldr_in_the_language(lang: str, expected: str) -> None:
    ps = profile_set("luxembourg")
    assert ps.prompter.params(lang, written=True)["hours_police"] == expected


@pytest.mark.parametrize("lang", sorted(profile_set("luxembourg").profile.languages))
def test_spoken_hours_have_no_abbreviation_a_voice_would_spell(lang: str) -> None:
    spoken = profile_set("luxembourg").prompter.params(lang)["hours_infotraite"]
    assert not re.search(r"\b\w{1,3}\.", spoken), spoken  # "p.d.", "ч.", "m.d."
    assert "(" not in spoken  # Luxembourgish CLDR "a(n)": the speaker's choice, not a word
    assert "12:00" in spoken and "13:00" in spoken


def test_portuguese_sms_hours_keep_a_word_between_the_days() -> None:
    ps = profile_set("luxembourg")
    sms = gsm_friendly(ps.prompter.params("pt", written=True)["hours_infotraite"])
    assert sms == "de segunda-feira a sexta-feira 09:00-12:00 e 13:00-17:00"
