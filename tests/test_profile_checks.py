"""Profile checks that protect the people a hotline serves (issue #23, parts 4 and 5): texts
invited only where a phone receives them, hours for every destination, an emergency number
that works from every SIM, and a person's sign-off before production. Each names its line."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask

from ivr.cli.main import main
from ivr.content.profile import PROFILES_DIR, ProfileError
from ivr.content.profile_loader import load_profile
from ivr.settings import ConfigError
from tests.test_security import PRODUCTION

KOSOVO = (PROFILES_DIR / "kosovo.toml").read_text(encoding="utf-8")
LUXEMBOURG = (PROFILES_DIR / "luxembourg.toml").read_text(encoding="utf-8")


def line_of(text: str, pattern: str) -> int:
    """The 1-based line of the first line matching `pattern` (what a check must name)."""
    return next(i for i, line in enumerate(text.splitlines(), 1) if re.search(pattern, line))


def written(tmp_path: Path, text: str, name: str = "kosovo.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- a profile that invites texts must have phones that receive them (error) --------------

def test_inviting_texts_with_no_phone_to_receive_them_fails_naming_the_line(
        tmp_path: Path) -> None:
    # Without its own help reply, Kosovo would send the built-in "… Or write here."
    text = KOSOVO.replace('"sms.help.discreet" = ', '"unused.help.discreet" = ')
    path = written(tmp_path, text)
    with pytest.raises(ProfileError) as failed:
        load_profile(path)
    line = line_of(text, r"^helpline_numbers = \[\]")
    assert str(failed.value).startswith(f"{path}:{line}: sms.helpline_numbers: no phone "
                                        "receives texts, but the reply 'sms.help.discreet' "
                                        "asks people to write")


def test_a_reply_worded_by_the_profile_that_invites_texts_fails_too(tmp_path: Path) -> None:
    text = KOSOVO.replace("no need to give your name. Urgent: %(emergency)s.\"",
                          "no need to give your name. Urgent: %(emergency)s. Text us here.\"")
    with pytest.raises(ProfileError, match="sms.helpline_numbers: no phone receives texts"):
        load_profile(written(tmp_path, text))


def test_the_same_reply_is_fine_once_a_phone_receives_texts(tmp_path: Path) -> None:
    text = KOSOVO.replace('"sms.help.discreet" = ', '"unused.help.discreet" = ').replace(
        "helpline_numbers = []", 'helpline_numbers = ["+383 44 123 456"]')
    assert load_profile(written(tmp_path, text)).sms.helpline_numbers == ("+38344123456",)


def test_kosovo_invites_no_texts_while_no_phone_receives_them() -> None:
    profile = load_profile(PROFILES_DIR / "kosovo.toml")
    assert not profile.sms.helpline_numbers
    for prompt_id in ("sms.help", "sms.help.discreet"):
        assert "write" not in profile.prompt_text(prompt_id).lower()


# --- a destination without hours is a warning --------------------------------------------

def test_a_destination_without_hours_is_a_warning_naming_its_line() -> None:
    profile = load_profile(PROFILES_DIR / "kosovo.toml")
    line = line_of(KOSOVO, r"^\[destinations\.helpline\]")
    assert (f"{profile.path}:{line}: destinations.helpline: has no hours (schedule): it is "
            "rung at all hours and nobody is told when it answers") in "\n".join(profile.warnings)


def test_destinations_with_hours_give_no_such_warning() -> None:
    profile = load_profile(PROFILES_DIR / "luxembourg.toml")
    assert not [w for w in profile.warnings if "has no hours" in w]


# --- an emergency number not dialable from every SIM is a warning -----------------------

def test_an_emergency_number_that_not_every_sim_reaches_is_a_warning_naming_its_line() -> None:
    profile = load_profile(PROFILES_DIR / "luxembourg.toml")
    line = line_of(LUXEMBOURG, r"^emergency_number = ")
    assert any(w.startswith(f"{profile.path}:{line}: hotline.emergency_number: 113 may not "
                            "connect from a foreign SIM; only 112 does") for w in profile.warnings)


def test_saying_112_alongside_removes_the_warning(tmp_path: Path) -> None:
    assert not [w for w in load_profile(PROFILES_DIR / "kosovo.toml").warnings
                if "emergency_number" in w]  # "192 or 112"
    without = KOSOVO.replace('emergency_also = ["112"]', "emergency_also = []")
    profile = load_profile(written(tmp_path, without))
    assert [w for w in profile.warnings if "hotline.emergency_number: 192 may not" in w]


def test_a_second_emergency_number_must_be_one_of_the_emergency_numbers(tmp_path: Path) -> None:
    text = KOSOVO.replace('emergency_also = ["112"]', 'emergency_also = ["911"]')
    path = written(tmp_path, text)
    line = line_of(text, r"^emergency_also = ")
    with pytest.raises(ProfileError, match=rf"^{re.escape(str(path))}:{line}: "
                                           "hotline.emergency_also: '911' must be one of"):
        load_profile(path)


def test_check_profile_prints_the_warnings_and_passes() -> None:
    result = CliRunner().invoke(main, ["check-profile", str(PROFILES_DIR / "kosovo.toml")])
    assert result.exit_code == 0, result.output
    assert "warning: " in result.output and "destinations.helpline: has no hours" in result.output
    assert "verification.verified_by: not verified: 6 question(s)" in result.output


# --- K1: no production start until a person marks the profile verified --------------------

def test_kosovo_is_unverified_naming_the_line_to_fill_in() -> None:
    profile = load_profile(PROFILES_DIR / "kosovo.toml")
    assert profile.verification is not None and len(profile.verification.questions) == 6
    line = line_of(KOSOVO, r"^verified_by = ")
    assert profile.verification.unverified is not None
    assert profile.verification.unverified.startswith(
        f"{profile.path}:{line}: verification.verified_by: not verified")


def test_production_refuses_an_unverified_profile(make_app: Callable[..., Flask]) -> None:
    with pytest.raises(ConfigError, match=r"- the profile is not verified: .*kosovo\.toml:\d+: "
                                          "verification.verified_by"):
        make_app("kosovo", **PRODUCTION)


def test_local_mode_starts_an_unverified_profile_with_a_warning(
        make_app: Callable[..., Flask], caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="ivr"):
        assert make_app("kosovo")
    assert any("verification.verified_by: not verified" in r.getMessage()
               for r in caplog.records)


def test_a_verified_profile_starts_in_production(tmp_path: Path,
                                                 make_app: Callable[..., Flask]) -> None:
    text = KOSOVO.replace('verified_by = ""', 'verified_by = "A. Person"').replace(
        'verified_on = ""', "verified_on = 2027-01-15")
    path = written(tmp_path, text)
    profile = load_profile(path)
    assert profile.verification is not None and profile.verification.unverified is None
    assert not [w for w in profile.warnings if "verification" in w]
    assert make_app(str(path), **PRODUCTION)


@pytest.mark.parametrize(("by", "on"), [('"A. Person"', '""'), ('""', '"2027-01-15"')])
def test_a_half_filled_sign_off_is_not_verified(tmp_path: Path, by: str, on: str) -> None:
    text = KOSOVO.replace('verified_by = ""', f"verified_by = {by}").replace(
        'verified_on = ""', f"verified_on = {on}")
    verification = load_profile(written(tmp_path, text)).verification
    assert verification is not None and verification.unverified is not None


def test_a_sign_off_date_that_is_no_date_is_named(tmp_path: Path) -> None:
    text = KOSOVO.replace('verified_on = ""', 'verified_on = "last week"')
    path = written(tmp_path, text)
    line = line_of(text, r"^verified_on = ")
    with pytest.raises(ProfileError, match=rf"{path.name}:{line}: verification.verified_on: "
                                           "'last week' is not a date"):
        load_profile(path)


def test_a_profile_without_verification_needs_no_sign_off() -> None:
    profile = load_profile(PROFILES_DIR / "luxembourg.toml")
    assert profile.verification is None
    assert not [w for w in profile.warnings if "verif" in w]
