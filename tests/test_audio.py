"""Prompt audio: resolution order, staleness, Twilio's voices, and serving the files."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po
from flask import Flask
from twilio.twiml.voice_response import VoiceResponse

from ivr.content.audio import (
    PROMPTS_DIR,
    AudioFile,
    AudioLibrary,
    read_manifest,
    text_hash,
    write_manifest,
)
from ivr.content.i18n import LOCALES_DIR, Catalogs
from ivr.content.library import check_library
from ivr.content.profile import PROFILES_DIR, Profile
from ivr.content.profile_loader import load_profile
from ivr.content.prompt_set import PromptSet
from ivr.content.sound import inspect_wav, synthesize, with_duration
from ivr.content.speech import ENGLISH_FOLLOWS, NAMED_OPTIONS, SOURCE_VOICE, Prompter
from ivr.content.voices import VoiceList

pytestmark = pytest.mark.slow  # reads and makes audio with sox and espeak-ng

needs_tools = pytest.mark.skipif(not (shutil.which("sox") and shutil.which("espeak-ng")),
                                 reason="sox and espeak-ng (Debian packages) are not installed")
SHIPPED = sorted(PROFILES_DIR.glob("*.toml"))


def prompter_for(profile: Profile, root: Path, locales: Path = LOCALES_DIR) -> Prompter:
    return Prompter(profile, Catalogs(list(profile.languages), locales), AudioLibrary(root))


def edited_profile(tmp_path: Path, prompt_id: str, text: str) -> Profile:
    """A copy of the Luxembourg profile with one [prompts] text reworded."""
    source = (PROFILES_DIR / "luxembourg.toml").read_text(encoding="utf-8")
    old = load_profile(PROFILES_DIR / "luxembourg.toml").prompts[prompt_id]
    assert f'"{prompt_id}" = "{old}"' in source
    path = tmp_path / "edited.toml"
    path.write_text(source.replace(f'"{prompt_id}" = "{old}"', f'"{prompt_id}" = "{text}"'),
                    encoding="utf-8")
    return load_profile(path)


def add_file(root: Path, lang: str, prompt_id: str, text: str, source: str) -> AudioFile:
    """Make a real file speaking `text` and list it in root's manifest."""
    path = root / lang / f"{prompt_id}.wav"
    info = synthesize(text, lang, path)
    audio = with_duration(AudioFile(lang, prompt_id, text_hash(text), source, 0.0, path, text),
                          info)
    write_manifest(root, [*read_manifest(root), audio])
    return audio


def lb_catalog(locales: Path, translations: dict[tuple[str, str], str]) -> None:
    """A Luxembourgish catalog with these (prompt id, English) -> translation entries."""
    catalog = Catalog(locale="lb")
    for (prompt_id, english), text in translations.items():
        catalog.add(english, text, context=prompt_id)
    target = locales / "lb" / "LC_MESSAGES" / "messages.po"
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as handle:
        write_po(handle, catalog)


# --- every prompt of both profiles can be heard ---------------------------------------------


@pytest.mark.parametrize("profile_path", SHIPPED, ids=lambda p: p.stem)
def test_every_prompt_resolves_to_audio_or_a_listed_voice(profile_path: Path) -> None:
    voices = VoiceList.load()
    prompts = PromptSet.load([profile_path])
    (profile_set,) = prompts.profiles
    prompter = profile_set.prompter
    assert len(prompts.needs) > 50
    for need in prompts.needs:
        said = prompter.utterance(need.lang, need.prompt_id, **dict(need.extra))
        where = f"{need.lang} {need.prompt_id}"
        if said.audio_url:
            audio = prompts.current(need)
            assert audio is not None and audio.path.is_file(), where
            assert said.audio_url == prompts.library.url(audio)
            assert audio.lang == need.lang, f"{where}: another language's audio"
        else:
            assert said.say_language, where
            assert voices.problem(said.say_language, said.say_voice) is None, where
            if said.lang != need.lang:  # English in its place: told, or a named option
                assert said.instead_of == need.lang or need.prompt_id in NAMED_OPTIONS, where


@pytest.mark.parametrize("profile_path", SHIPPED, ids=lambda p: p.stem)
def test_a_language_without_voice_is_played_from_files_once_translated(
        profile_path: Path) -> None:
    prompts = PromptSet.load([profile_path])
    (profile_set,) = prompts.profiles
    for lang in profile_set.profile.languages.values():
        if lang.say_language:
            continue
        translated = [n for n in prompts.needs_of(lang.code) if n.translated]
        for need in translated:
            said = profile_set.prompter.utterance(need.lang, need.prompt_id, **dict(need.extra))
            assert said.audio_url, f"{need.lang} {need.prompt_id}: no placeholder or recording"


# --- Twilio's voices ------------------------------------------------------------------------


@pytest.mark.parametrize("profile_path", SHIPPED, ids=lambda p: p.stem)
def test_each_profile_voice_is_a_pair_twilio_publishes(profile_path: Path) -> None:
    voices = VoiceList.load()
    profile = load_profile(profile_path)
    for lang in profile.languages.values():
        if lang.say_language:
            assert voices.problem(lang.say_language, lang.say_voice) is None, lang.code
            assert lang.say_voice, f"{lang.code}: name the voice; Twilio's default may change"


def test_the_voice_list_knows_which_languages_twilio_cannot_speak() -> None:
    voices = VoiceList.load()
    assert set(voices.no_voice) == {"lb-LU", "sq-AL"}
    assert voices.voices["uk-UA"] and all(v.startswith("Google.") for v in voices.voices["uk-UA"])
    for google_only in ("bg-BG", "sr-RS"):
        assert all(v.startswith("Google.") for v in voices.voices[google_only])
    for profile_path in SHIPPED:
        profile = load_profile(profile_path)
        for code in ("lb", "sq"):
            if code in profile.languages:
                assert profile.languages[code].say_language is None
    text = (PROMPTS_DIR / "twilio_voices.toml").read_text(encoding="utf-8")
    assert "src/Twilio/TwiML/Voice/Say.cs" in text  # the list names its source


def test_a_wrong_pair_is_caught() -> None:
    voices = VoiceList.load()
    assert voices.problem("uk-UA", "Polly.Tatyana") is not None
    assert voices.problem("lb-LU", None) is not None
    assert voices.problem("ru-RU", "Polly.Tatyana") is None


# --- staleness and the fallbacks -------------------------------------------------------------


@needs_tools
def test_an_edited_text_turns_a_recording_stale_and_twilio_speaks(tmp_path: Path) -> None:
    root = tmp_path / "prompts"
    profile = load_profile(PROFILES_DIR / "luxembourg.toml")
    text, _ = prompter_for(profile, root).text("en", "main.talk", {"key": "1"})
    recording = add_file(root, "en", "main.talk", text, "recorded")

    said = prompter_for(profile, root).utterance("en", "main.talk", key="1")
    assert said.audio_url == AudioLibrary(root).url(recording)  # a recording beats the voice

    edited = edited_profile(tmp_path, "main.talk", "To speak with %(hotline)s now, press %(key)s.")
    said = prompter_for(edited, root).utterance("en", "main.talk", key="1")
    assert said.audio_url is None
    assert (said.say_language, said.say_voice) == (edited.languages["en"].say_language,
                                                   edited.languages["en"].say_voice)
    assert said.text == "To speak with INFOTRAITE now, press 1."

    report = check_library(PromptSet.load([tmp_path / "edited.toml"], root))
    stale = [p for p in report.problems if "stale" in p.what]
    assert [a.path for a in report.stale] == [recording.path]
    assert len(stale) == 1 and "main.talk" in stale[0].where


@needs_tools
def test_a_stale_placeholder_without_voice_falls_back_to_english_with_a_notice(
        tmp_path: Path) -> None:
    root, locales = tmp_path / "prompts", tmp_path / "locales"
    profile = load_profile(PROFILES_DIR / "luxembourg.toml")
    english = {"main.talk": profile.prompts["main.talk"],
               "main.signs": profile.prompts["main.signs"]}
    lb_catalog(locales, {("main.talk", english["main.talk"]): "Fir mat %(hotline)s ze "
                                                               "schwätzen, dréckt %(key)s."})
    text, used = prompter_for(profile, root, locales).text("lb", "main.talk", {"key": "1"})
    assert used == "lb"
    placeholder = add_file(root, "lb", "main.talk", text, "synthesized")
    assert prompter_for(profile, root, locales).utterance("lb", "main.talk", key="1").audio_url

    # The translation is reworded: the placeholder no longer says it.
    lb_catalog(locales, {("main.talk", english["main.talk"]): "Fir elo mat %(hotline)s ze "
                                                               "schwätzen, dréckt %(key)s."})
    prompter = prompter_for(profile, root, locales)
    response = VoiceResponse()
    gather = response.gather()
    prompter.speak(gather, "lb", "main.talk", key="1")
    prompter.speak(gather, "lb", "main.signs", key="2")
    heard = [(e.tag, e.text, e.get("language")) for e in ET.fromstring(str(response)).iter()
             if e.tag in ("Say", "Play")]
    notice, _ = prompter.text("en", ENGLISH_FOLLOWS)
    assert heard == [
        ("Say", notice, SOURCE_VOICE[0]),  # once, before the first English prompt
        ("Say", "To talk to INFOTRAITE now, press 1.", profile.languages["en"].say_language),
        ("Say", "To hear the signs of human trafficking, press 2.",
         profile.languages["en"].say_language),
    ]
    assert placeholder.path.exists()  # kept, and listed as stale until re-made
    report = check_library(PromptSet.load([PROFILES_DIR / "luxembourg.toml"], root, locales))
    assert placeholder.path in [a.path for a in report.stale]


@needs_tools
def test_the_notice_plays_in_the_callers_language_where_it_has_audio(tmp_path: Path) -> None:
    root, locales = tmp_path / "prompts", tmp_path / "locales"
    profile = load_profile(PROFILES_DIR / "luxembourg.toml")
    from ivr.content.texts import BUILTIN_PROMPTS

    lb_catalog(locales, {(ENGLISH_FOLLOWS, BUILTIN_PROMPTS[ENGLISH_FOLLOWS]):
                         "Dësen Deel gëtt et nach net op Lëtzebuergesch."})
    text, _ = prompter_for(profile, root, locales).text("lb", ENGLISH_FOLLOWS)
    notice = add_file(root, "lb", ENGLISH_FOLLOWS, text, "synthesized")
    prompter = prompter_for(profile, root, locales)
    response = VoiceResponse()
    prompter.speak(response, "lb", "main.talk", key="1")  # untranslated here
    first = next(iter(ET.fromstring(str(response))))
    assert (first.tag, first.text) == ("Play", AudioLibrary(root).url(notice))


def test_a_language_option_without_audio_names_the_language_in_english(tmp_path: Path) -> None:
    profile = load_profile(PROFILES_DIR / "luxembourg.toml")
    prompter = prompter_for(profile, tmp_path / "empty", tmp_path / "no-locales")
    said = prompter.utterance("lb", "language.option", key="4")
    assert said.text == "For Luxembourgish, press 4."
    assert said.instead_of is None  # the language menu needs no notice
    said = prompter.utterance("sq", "language.option_next_page", more="9", key="5")
    assert said.text == "For Albanian, press 9, then 5."


def test_a_missing_file_is_never_played(tmp_path: Path) -> None:
    root = tmp_path / "prompts"
    profile = load_profile(PROFILES_DIR / "luxembourg.toml")
    text, _ = prompter_for(profile, root).text("en", "main.talk", {"key": "1"})
    write_manifest(root, [AudioFile("en", "main.talk", text_hash(text), "recorded", 2.0,
                                    root / "en" / "main.talk.wav", text)])
    said = prompter_for(profile, root).utterance("en", "main.talk", key="1")
    assert said.audio_url is None and said.say_language


# --- the repository's own audio -------------------------------------------------------------


def test_the_committed_audio_is_telephone_format() -> None:
    for audio in read_manifest(PROMPTS_DIR):
        info = inspect_wav(audio.path)
        assert info.telephone_format, audio.path
        assert abs(info.duration - audio.duration) < 0.05, audio.path


# --- serving the files ----------------------------------------------------------------------


@needs_tools
def test_prompt_audio_is_served_with_validators_and_cache(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        make_app: Callable[..., Flask]) -> None:
    root = tmp_path / "prompts"
    add_file(root, "lb", "main.talk", "Fir mat INFOTRAITE ze schwätzen, dréckt 1.", "synthesized")
    monkeypatch.setenv("HOTLINE_PROMPTS_DIR", str(root))
    client = make_app().test_client()
    with client.get("/prompts/lb/main.talk.wav?v=0123") as response:
        assert response.status_code == 200
        assert response.mimetype == "audio/wav"
        assert response.data[:4] == b"RIFF" and response.data[8:12] == b"WAVE"
        etag = response.headers["ETag"]
        cache = response.headers["Cache-Control"]
    assert etag
    assert "max-age=" in cache and "public" in cache
    with client.get("/prompts/lb/main.talk.wav", headers={"If-None-Match": etag}) as again:
        assert again.status_code == 304
    for missing in ("/prompts/lb/nothing.wav", "/prompts/lb/..%2Fmanifest.wav"):
        with client.get(missing) as response:
            assert response.status_code == 404
