"""`ivr prompts`: script, import, synth, check and timing, on real files made with sox."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import wave
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ivr.cli.main import main
from ivr.content.audio import PROMPTS_DIR, AudioFile, read_manifest, text_hash, write_manifest
from ivr.content.library import synthesize_language
from ivr.content.profile import PROFILES_DIR
from ivr.content.prompt_set import PromptSet
from ivr.content.script import SpeakingRates
from ivr.content.sound import LEAD_PAD, MAX_LEADING_SILENCE, TAIL_PAD, inspect_wav
from ivr.voice.timing import timing_rows

pytestmark = [pytest.mark.skipif(not (shutil.which("sox") and shutil.which("espeak-ng")),
                                 reason="sox and espeak-ng (Debian packages) are not installed"),
              pytest.mark.slow]  # runs sox and espeak-ng over the audio library
LUXEMBOURG = PROFILES_DIR / "luxembourg.toml"


def ivr(*args: str) -> Result:
    return CliRunner().invoke(main, ["prompts", *args], catch_exceptions=False)


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty prompts directory the commands work in."""
    folder = tmp_path / "prompts"
    folder.mkdir()
    monkeypatch.setenv("HOTLINE_PROMPTS_DIR", str(folder))
    return folder


def sox(*args: str) -> None:
    subprocess.run(["sox", "-V1", *args], check=True)


def sox_reads_mp3() -> bool:
    help_text = subprocess.run(["sox", "-h"], capture_output=True, text=True).stdout
    return " mp3 " in help_text


def english_text(prompt_id: str, **extra: str) -> str:
    prompts = PromptSet.load([LUXEMBOURG], Path("/nonexistent"))
    text, used = prompts.profiles[0].prompter.text("en", prompt_id, extra)
    assert used == "en"
    return text


# --- the repository ---------------------------------------------------------------------------


def test_check_passes_on_the_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOTLINE_PROMPTS_DIR", raising=False)
    monkeypatch.delenv("HOTLINE_PROFILE", raising=False)
    result = ivr("check")
    assert result.exit_code == 0, result.output
    assert "OK:" in result.output
    committed = read_manifest(PROMPTS_DIR)
    assert {a.lang for a in committed} >= {"lb", "sq"}


# --- import -----------------------------------------------------------------------------------


def test_import_converts_trims_and_levels_a_real_recording(root: Path, tmp_path: Path) -> None:
    session = tmp_path / "session"
    session.mkdir()
    # A stereo 44.1 kHz FLAC: one second of silence, speech, a second and a half of silence.
    speech = tmp_path / "speech.wav"
    subprocess.run(["espeak-ng", "-v", "en", "-w", str(speech), "To talk to INFOTRAITE now"],
                   check=True)
    sox(str(speech), "-r", "44100", "-c", "2", str(session / "main.talk.flac"),
        "vol", "0.2", "pad", "1", "1.5")
    # A quiet MP3-free second format: a tone in Ogg Vorbis, for the sms option.
    sox("-n", "-r", "22050", "-c", "1", str(session / "main.sms.ogg"),
        "synth", "0.8", "sine", "440", "vol", "0.05", "pad", "0.7", "0.7")
    if sox_reads_mp3():  # Debian's libsox-fmt-mp3, installed by the README's command
        sox(str(speech), str(session / "main.kinds.mp3"), "pad", "0.5", "0.5")
    original = inspect_wav(speech)

    result = ivr("import", str(session), "--lang", "en", "--profile", str(LUXEMBOURG))
    assert result.exit_code == 0, result.output

    entries = {a.prompt_id: a for a in read_manifest(root)}
    talk = entries["main.talk"]
    assert talk.source == "recorded"
    assert talk.sha256 == text_hash(english_text("main.talk", key="1"))
    with wave.open(str(talk.path), "rb") as reader:
        assert (reader.getframerate(), reader.getnchannels(), reader.getsampwidth()) == (8000, 1, 2)
        assert reader.getcomptype() == "NONE"
    info = inspect_wav(talk.path)
    assert info.leading_silence <= MAX_LEADING_SILENCE
    assert info.trailing_silence <= LEAD_PAD + TAIL_PAD + 0.1
    spoken = original.duration - original.leading_silence - original.trailing_silence
    assert abs(info.duration - (spoken + LEAD_PAD + TAIL_PAD)) < 0.15  # 2.5 s of silence gone
    assert -25 < info.active_level_db < -19 and info.peak_db <= -0.9  # levelled up from -14 dB
    assert abs(talk.duration - info.duration) < 0.01

    sms = inspect_wav(entries["main.sms"].path)
    assert sms.telephone_format and abs(sms.duration - (0.8 + LEAD_PAD + TAIL_PAD)) < 0.05
    if sox_reads_mp3():
        kinds = inspect_wav(entries["main.kinds"].path)
        assert kinds.telephone_format and kinds.leading_silence <= MAX_LEADING_SILENCE

    # The app now plays the recording rather than Twilio's voice.
    prompts = PromptSet.load([LUXEMBOURG], root)
    said = prompts.profiles[0].prompter.utterance("en", "main.talk", key="1")
    assert said.audio_url == prompts.library.url(talk)
    checked = ivr("check", "--profile", str(LUXEMBOURG)).output
    assert "problem: en/" not in checked  # (lb has no audio in this empty library)


def test_import_refuses_unknown_names_and_silence(root: Path, tmp_path: Path) -> None:
    session = tmp_path / "session"
    session.mkdir()
    sox("-n", "-r", "8000", "-c", "1", str(session / "main.talkk.wav"), "synth", "0.5", "sine",
        "300")
    sox("-n", "-r", "8000", "-c", "1", str(session / "main.signs.wav"), "trim", "0", "2")
    sox("-n", "-r", "8000", "-c", "1", str(session / "connect.hold.wav"), "synth", "0.5", "sine",
        "300")
    result = ivr("import", str(session), "--lang", "en", "--profile", str(LUXEMBOURG))
    assert result.exit_code == 1
    assert "main.talkk.wav: no prompt with this id" in result.output
    assert "main.signs.wav" in result.output and "silence" in result.output
    # connect.hold has one text per destination: the name must say which.
    assert "connect.hold.wav: this prompt has several versions" in result.output
    assert read_manifest(root) == []


# --- script -----------------------------------------------------------------------------------


def test_script_lists_every_prompt_with_its_file_name(root: Path, tmp_path: Path) -> None:
    out = tmp_path / "uk.csv"
    result = ivr("script", "--lang", "uk", "--format", "csv", "-o", str(out),
                 "--profile", str(LUXEMBOURG))
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    prompts = PromptSet.load([LUXEMBOURG], root)
    expected = {prompts.stems[n] for n in prompts.needs_of("uk") if n.translated}
    assert {row["id"] for row in rows} == expected
    assert all(float(row["target_seconds"]) > 0 for row in rows)
    hold = [row for row in rows if row["id"].startswith("connect.hold.")]
    assert len(hold) == 2  # one per destination
    html = ivr("script", "--lang", "uk", "--profile", str(LUXEMBOURG)).output
    assert html.startswith("<!doctype html>") and "<table>" in html
    assert ivr("script", "--lang", "xx").exit_code == 2


# --- synth ------------------------------------------------------------------------------------


def test_synth_makes_telephone_placeholders_and_drops_stale_ones(root: Path) -> None:
    prompts = PromptSet.load([LUXEMBOURG], root)
    lang = "lb" if any(n.translated for n in prompts.needs_of("lb")) else "en"
    plan = [n for n in prompts.needs_of(lang) if n.translated][:2]
    stale_path = root / lang / "old.wav"
    stale_path.parent.mkdir(parents=True)
    sox("-n", "-r", "8000", "-c", "1", "-b", "16", str(stale_path), "synth", "1", "sine", "300")
    write_manifest(root, [AudioFile(lang, "main.talk", text_hash("an old text"), "synthesized",
                                    1.0, stale_path, "an old text")])
    made = synthesize_language(prompts, lang, plan)
    assert [a.sha256 for a in made] == [n.sha256 for n in plan]
    assert not stale_path.exists()
    for audio in read_manifest(root):
        info = inspect_wav(audio.path)
        assert info.telephone_format and audio.source == "synthesized"
        assert info.leading_silence <= MAX_LEADING_SILENCE


def test_synth_refuses_a_language_twilio_speaks(root: Path) -> None:
    result = CliRunner().invoke(main, ["prompts", "synth", "--lang", "fr"])
    assert result.exit_code == 2 and "Twilio speaks" in result.output


# --- check ------------------------------------------------------------------------------------


def test_check_finds_every_kind_of_problem(root: Path) -> None:
    text = english_text("main.talk", key="1")
    lang_dir = root / "en"
    lang_dir.mkdir()
    wrong_rate = lang_dir / "main.talk.wav"
    sox("-n", "-r", "44100", "-c", "2", "-b", "16", str(wrong_rate), "synth", "1", "sine", "300")
    extensible = lang_dir / "main.kinds.wav"  # 24-bit: WAVE_FORMAT_EXTENSIBLE
    sox("-n", "-r", "8000", "-c", "1", "-b", "24", str(extensible), "synth", "1", "sine", "300")
    kinds = english_text("main.kinds", key="3")
    quiet_start = lang_dir / "main.signs.wav"
    sox("-n", "-r", "8000", "-c", "1", "-b", "16", str(quiet_start), "synth", "1", "sine",
        "300", "vol", "0.1", "pad", "1.5", "0")
    twin = lang_dir / "main.sms.wav"
    shutil.copy(quiet_start, twin)
    (lang_dir / "stray.wav").write_bytes(quiet_start.read_bytes() + b"\0\0")
    signs = english_text("main.signs", key="2")
    write_manifest(root, [
        AudioFile("en", "main.talk", text_hash(text), "recorded", 1.0, wrong_rate, text),
        AudioFile("en", "main.signs", text_hash(signs), "recorded", 2.5, quiet_start, signs),
        AudioFile("en", "main.sms", text_hash("reworded"), "recorded", 2.5, twin, "reworded"),
        AudioFile("en", "main.kinds", text_hash(kinds), "recorded", 1.0, extensible, kinds),
        AudioFile("en", "main.talk", text_hash(text), "synthesized", 1.0, lang_dir / "t.wav",
                  text),
        AudioFile("en", "main.police", text_hash("x"), "recorded", 1.0, lang_dir / "gone.wav",
                  "x"),
    ])
    result = ivr("check", "--profile", str(LUXEMBOURG))
    assert result.exit_code == 1
    out = result.output
    assert "en/main.talk.wav: 44100 Hz, 2 channel(s), 16-bit: must be 8000 Hz mono" in out
    assert "en/main.kinds.wav: not a plain PCM WAV file" in out
    assert "en/main.signs.wav: 1.50 s of silence before speech" in out
    assert "a duplicate" in out
    assert "stray.wav: not in the manifest" in out
    assert "en/main.sms.wav: stale recorded audio" in out
    assert "gone.wav: listed in the manifest, but the file is missing" in out
    assert "en/t.wav: a placeholder for a language Twilio speaks" in out


def test_check_flags_missing_audio_for_a_language_without_voice(root: Path) -> None:
    prompts = PromptSet.load([LUXEMBOURG], root)
    if not any(n.translated for n in prompts.needs_of("lb")):
        pytest.skip("no Luxembourgish catalog yet")
    result = ivr("check", "--profile", str(LUXEMBOURG))
    assert result.exit_code == 1
    assert "lb main.talk: no audio, and Twilio has no voice" in result.output


# --- timing -----------------------------------------------------------------------------------


def test_timing_adds_up_what_the_caller_hears(root: Path) -> None:
    prompts = PromptSet.load([LUXEMBOURG], root)
    (profile_set,) = prompts.profiles
    rates = SpeakingRates(prompts)
    rows = {row.lang: row for row in timing_rows(prompts, profile_set, rates)}
    p = profile_set.profile
    fr = rows["fr"]
    # The silent caller: the greeting and page 1 once, one wait of 5 s, then the ring tone
    # (the greeting said "stay on the line": no "connecting you" before it).
    assert fr.silent_to_ring == pytest.approx(fr.greeting_page1 + 5)
    assert fr.listening_keys == "1 1"
    assert rows["es"].listening_keys == "9 1 1"  # Spanish is on page 2
    assert rows["fr"].listening_to_ring < fr.silent_to_ring
    # Durations of text follow the measured rate: the main menu is its texts' length / rate.
    main_texts = [prompts.profiles[0].prompter.utterance("fr", o.prompt, key=o.key).text
                  for o in p.nodes["main"].options]
    expected = sum(len(t) for t in main_texts) / rates.rate("fr")
    assert fr.menus["main"][1] == pytest.approx(expected)


def test_timing_uses_the_files_durations(root: Path) -> None:
    text = english_text("main.talk", key="1")
    path = root / "en" / "main.talk.wav"
    path.parent.mkdir()
    sox("-n", "-r", "8000", "-c", "1", "-b", "16", str(path), "synth", "7", "sine", "300")
    write_manifest(root, [AudioFile("en", "main.talk", text_hash(text), "recorded", 7.0, path,
                                    text)])
    prompts = PromptSet.load([LUXEMBOURG], root)
    rates = SpeakingRates(prompts)
    en = {r.lang: r for r in timing_rows(prompts, prompts.profiles[0], rates)}["en"]
    others = [prompts.profiles[0].prompter.utterance("en", o.prompt, key=o.key).text
              for o in prompts.profiles[0].profile.nodes["main"].options[1:]]
    assert en.menus["main"][1] == pytest.approx(7.0 + sum(map(len, others)) / rates.rate("en"))


def test_timing_command_prints_the_table_and_the_misses(root: Path) -> None:
    result = ivr("timing", "--profile", str(LUXEMBOURG))
    assert result.exit_code == 0, result.output
    assert "With barge-in: 0 s of prompts and one key (0)" in result.output
    assert "greet+p1" in result.output and "Targets missed:" in result.output
    strict = ivr("timing", "--profile", str(LUXEMBOURG), "--strict")
    assert strict.exit_code == (1 if "FAIL" in result.output else 0)


def test_every_status_report_lists_a_stale_file(root: Path) -> None:
    path = root / "en" / "main.talk.wav"
    path.parent.mkdir()
    sox("-n", "-r", "8000", "-c", "1", "-b", "16", str(path), "synth", "1", "sine", "300")
    old = "To talk to the hotline, press 1."  # the text as it was when recorded
    write_manifest(root, [AudioFile("en", "main.talk", text_hash(old), "recorded", 1.0, path,
                                    old)])
    for command in (["check"], ["timing"], ["script", "--lang", "en"]):
        result = CliRunner().invoke(main, ["prompts", *command, "--profile", str(LUXEMBOURG)])
        assert "en/main.talk.wav" in result.output, command
        assert "stale" in result.output, command


def test_script_page_escapes_every_text() -> None:
    from ivr.content.script import ScriptLine, script_html

    page = script_html([ScriptLine("greeting", "greeting", "<b>1</b> & 2", "menu <i>", 2.345,
                                   "to record")], "uk", "INFO<TRAITE", 2)
    assert "<title>Recording script: INFO&lt;TRAITE, uk</title>" in page
    assert ('<tr><td class=id>greeting</td><td lang="uk" dir="ltr">&lt;b&gt;1&lt;/b&gt; &amp; 2</td>'
            "<td>menu &lt;i&gt;</td><td class=num>2.3</td><td>to record</td></tr>") in page
    assert "<strong>2 prompt(s) have no translation yet</strong>" in page
