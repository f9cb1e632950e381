"""The `ivr` command: walking the menu in a terminal, checking a profile, exporting the fallback."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask

from ivr.cli.main import main
from ivr.content.profile import PROFILES_DIR
from ivr.voice.simulate import parse_twiml


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    monkeypatch.setenv("SECRET_KEY", "cli-test")
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)
    monkeypatch.delenv("HOTLINE_PROFILE", raising=False)
    return CliRunner()


def test_call_walks_to_a_ringing_helpline_in_office_hours(cli: CliRunner) -> None:
    result = cli.invoke(main, ["call", "--lang", "uk", "--at", "2026-11-23 10:00",
                               "--keys", "1,a"])
    assert result.exit_code == 0, result.output
    assert "(presses 6)" in result.output
    assert ">> ringing +35227365646" in result.output
    assert "the person who answers hears:" in result.output
    assert "(hung up)" in result.output


def test_call_after_an_upgrade_raises_no_database_alarm(
        cli: CliRunner, caplog: pytest.LogCaptureFixture) -> None:
    """Issue #24: the walk's own throwaway database was reported as 'DATABASE NOT READY'."""
    with caplog.at_level(logging.WARNING):
        upgraded = cli.invoke(main, ["db", "upgrade"])
        assert upgraded.exit_code == 0, upgraded.output
        result = cli.invoke(main, ["call", "--lang", "fr", "--keys", "q"])
    assert result.exit_code == 0, result.output
    assert "NOT READY" not in caplog.text + result.output
    assert "database at revision heads" in upgraded.output


def test_call_out_of_hours_rings_the_mobiles_together_then_offers_a_message(
        cli: CliRunner) -> None:
    result = cli.invoke(main, ["call", "--lang", "en", "--at", "2026-11-28 10:00",
                               "--keys", "1,n,1,"])
    assert result.exit_code == 0, result.output
    assert ">> the caller waits in a queue of their own and hears:" in result.output
    assert "[en-GB] Connecting you to INFOTRAITE. Please stay on the line." in result.output
    assert ">> ringing together: +352621351884, +352621316919" in result.output
    assert "+35227365646" not in result.output
    assert ">> nobody accepted: the caller leaves the queue" in result.output
    assert "Nobody could answer right now." in result.output
    assert ">> recording a voice message for the helpline" in result.output


def test_call_shows_who_accepts_and_which_phone_stopped(cli: CliRunner) -> None:
    result = cli.invoke(main, ["call", "--lang", "en", "--at", "2026-11-28 10:00",
                               "--keys", "1,v"])
    assert result.exit_code == 0, result.output
    assert ">> +352621351884: a voicemail answered, heard the whisper, pressed nothing" \
        in result.output
    assert ">> +352621316919 pressed 1: the caller is put through" in result.output
    again = cli.invoke(main, ["call", "--lang", "en", "--at", "2026-11-28 10:00",
                              "--keys", "1,2"])
    assert ">> +352621351884 stopped ringing (the hotline cancelled its call)" in again.output


def test_call_with_the_rest_api_refusing_rings_one_after_another(cli: CliRunner) -> None:
    result = cli.invoke(main, ["call", "--lang", "en", "--at", "2026-11-28 10:00",
                               "--rest-refuses", "--keys", "1,n,a"])
    assert result.exit_code == 0, result.output
    assert "Twilio's REST API refuses" in result.output
    assert "ringing together" not in result.output
    assert ">> ringing +352621351884 (" in result.output
    assert ">> ringing +352621316919 (" in result.output


def test_call_reads_keys_from_standard_input(cli: CliRunner) -> None:
    result = cli.invoke(main, ["call", "--lang", "en"], input="2\n1\n3\nq\n")
    assert result.exit_code == 0, result.output
    assert "Fear. The person shows fear" in result.output


def test_call_with_the_kosovo_profile(cli: CliRunner) -> None:
    result = cli.invoke(main, ["call", "--profile", str(PROFILES_DIR / "kosovo.toml"),
                               "--lang", "en", "--keys", "1"])
    assert result.exit_code == 0, result.output
    assert ">> ringing +38380011112" in result.output


def test_call_rejects_a_language_the_profile_lacks(cli: CliRunner) -> None:
    result = cli.invoke(main, ["call", "--lang", "xx"])
    assert result.exit_code == 2
    assert "'xx' is not one of" in result.output


def test_call_rejects_a_bad_time(cli: CliRunner) -> None:
    result = cli.invoke(main, ["call", "--at", "Monday morning"])
    assert result.exit_code == 2 and "YYYY-MM-DD HH:MM" in result.output


def test_check_profile(cli: CliRunner, tmp_path: Path) -> None:
    ok = cli.invoke(main, ["check-profile", str(PROFILES_DIR / "kosovo.toml")])
    assert ok.exit_code == 0 and "OK" in ok.output
    bad = tmp_path / "bad.toml"
    bad.write_text((PROFILES_DIR / "kosovo.toml").read_text().replace(
        'node = "signs"', 'node = "nowhere"'))
    result = cli.invoke(main, ["check-profile", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:" in result.output and "unknown node 'nowhere'" in result.output


def test_export_fallback_writes_what_the_fallback_url_answers(app: Flask, tmp_path: Path) -> None:
    out = tmp_path / "fallback.xml"
    result = app.test_cli_runner().invoke(main, ["export-fallback", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").strip() == app.extensions["hotline"].fallback_twiml
    with_id = app.test_cli_runner().invoke(main, ["export-fallback", "--caller-id",
                                                  "+35220304050"])
    step = parse_twiml(with_id.output)
    assert step.caller_id == "+35220304050" and len(step.dial_numbers) == 3


def test_sms_try_names_each_phone_and_what_stop_and_start_changed(cli: CliRunner) -> None:
    """Issue #24: relays printed twice without the phone; START and STOP printed nothing."""
    assert cli.invoke(main, ["db", "upgrade"]).exit_code == 0
    first = cli.invoke(main, ["sms", "try", "I am not allowed to leave the house"])
    assert first.exit_code == 0, first.output
    lines = first.output.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "-> helpline phone +352621351884", "-> helpline phone +352621316919", "-> the person"]
    stop = cli.invoke(main, ["sms", "try", "STOP"]).output
    assert "-> the person: nothing from the hotline (Twilio answers STOP itself" in stop
    assert "now: this number has opted out" in stop
    assert "unchanged: this number had already opted out" in cli.invoke(
        main, ["sms", "try", "STOP"]).output
    start = cli.invoke(main, ["sms", "try", "START"]).output
    assert "now: this number has opted back in" in start
    code = lines[0].split("#", 1)[1].split()[0]
    pin_file = Path(Flask("ivr", instance_relative_config=True).instance_path) / "staff-reply-pin"
    pin = pin_file.read_text(encoding="utf-8").strip()
    reply = cli.invoke(main, ["sms", "try", "--staff", f"#{code} {pin} We hear you"]).output
    assert f"local mode's PIN is in {pin_file}" in reply
    # Local mode gives the person what production does: the PIN taken off, never passed on.
    assert "-> the person: We hear you" in reply.splitlines()
    assert "-> helpline phone +352621351884: nothing from the hotline" in reply
    unlocked = cli.invoke(main, ["sms", "try", "--staff", f"#{code} We hear you"]).output
    assert "-> the person:" not in unlocked
