"""`ivr check-profile` fails on a text callers hear that a language of the profile cannot say."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from ivr.cli.main import main
from ivr.content.i18n import Catalogs
from ivr.content.profile import PROFILES_DIR
from ivr.content.profile_loader import load_profile
from ivr.content.spoken_check import spoken_text_problems


def test_both_shipped_profiles_pass() -> None:
    for name in ("luxembourg", "kosovo"):
        profile = load_profile(PROFILES_DIR / f"{name}.toml")
        assert spoken_text_problems(profile, Catalogs(list(profile.languages))) == []


def test_a_destination_without_a_spoken_name_fails(tmp_path: Path) -> None:
    bad = tmp_path / "kosovo.toml"
    bad.write_text((PROFILES_DIR / "kosovo.toml").read_text(encoding="utf-8").replace(
        '"destination.helpline" = ', '"unused.helpline" = '), encoding="utf-8")
    result = CliRunner().invoke(main, ["check-profile", str(bad)])
    assert result.exit_code == 1
    assert ("kosovo.toml: destinations.helpline.label: said to callers in every language; "
            'add "destination.helpline"') in result.output


def test_a_spoken_text_with_no_translation_fails(tmp_path: Path) -> None:
    bad = tmp_path / "kosovo.toml"
    bad.write_text((PROFILES_DIR / "kosovo.toml").read_text(encoding="utf-8").replace(
        "the victims' helpline", "the victims' line"), encoding="utf-8")
    result = CliRunner().invoke(main, ["check-profile", str(bad)])
    assert result.exit_code == 1
    assert ("kosovo.toml: prompts.destination.helpline: no translation in "
            "sq, sr, ro, bg, uk, ru") in result.output


@pytest.mark.parametrize(("caller_id", "reason"), [
    ("+352 12", "'+352 12' is not a valid number in its country's numbering plan"),
    ("hotline", "'hotline' has 'e', 'h', 'i', 'l', 'n', 'o', 't' in it"),
    # Issue #24: phonenumbers reads letters as keypad digits; this wrote +35299999999.
    ("+352XXXXXXXX", "'+352XXXXXXXX' has 'X' in it: a phone number is written in digits"),
])
def test_export_fallback_refuses_a_caller_id_that_is_not_a_number(
        caller_id: str, reason: str, tmp_path: Path) -> None:
    output = tmp_path / "fallback.xml"
    result = CliRunner().invoke(main, ["export-fallback", "--caller-id", caller_id,
                                       "-o", str(output)])
    assert result.exit_code == 2 and reason in " ".join(result.output.split())
    assert not output.exists()


def test_export_fallback_writes_a_written_number_in_e164(tmp_path: Path) -> None:
    output = tmp_path / "fallback.xml"
    result = CliRunner().invoke(main, ["export-fallback", "--caller-id", "+352 20 30 40 50",
                                       "-o", str(output)])
    assert result.exit_code == 0, result.output
    assert 'callerId="+35220304050"' in output.read_text(encoding="utf-8")


def test_call_shows_the_words_of_a_recorded_prompt_and_the_second_page() -> None:
    result = CliRunner().invoke(main, ["call", "--lang", "sq", "--keys", ",q"])
    assert result.exit_code == 0, result.output
    assert "(presses 9)\n  [es-ES] Español: pulse 1." in result.output
    assert "  [sq, synthesized] Për shqip, shtypni 5.  (/prompts/sq/language.option." \
        in result.output


def test_a_key_written_twice_is_reported_with_file_line_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "kosovo.toml"
    bad.write_text((PROFILES_DIR / "kosovo.toml").read_text(encoding="utf-8").replace(
        "ring_seconds = 25", "ring_seconds = 25\nring_seconds = 20"), encoding="utf-8")
    line = bad.read_text(encoding="utf-8").splitlines().index("ring_seconds = 20") + 1
    result = CliRunner().invoke(main, ["check-profile", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:{line}: ring_seconds: written twice" in result.output
