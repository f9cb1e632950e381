"""Numbers reach the synthesizer as words for lb and sq (issue #23 part 6, review C1):
espeak-ng's Luxembourgish voice reads "18" as "aacht", so no digit may reach it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ivr.content import sound
from ivr.content.number_words import LARGEST, lb_number, spelled_out, sq_number
from ivr.content.prompt_set import PromptSet
from tests.conftest import PROFILES

DIGIT = re.compile(r"\d")


@pytest.mark.parametrize("number", [lb_number, sq_number])
def test_every_number_up_to_9999_is_words_and_each_its_own(number: object) -> None:
    assert callable(number)
    said = [number(n) for n in range(LARGEST + 1)]
    assert not [s for s in said if DIGIT.search(s) or not s.strip()]
    assert len(set(said)) == len(said)  # no two numbers heard alike


@pytest.mark.parametrize(("n", "lb", "sq"), [
    (0, "null", "zero"), (1, "eent", "një"), (8, "aacht", "tetë"),
    (13, "dräizéng", "trembëdhjetë"), (16, "siechzéng", "gjashtëmbëdhjetë"),
    (18, "uechtzéng", "tetëmbëdhjetë"), (21, "eenanzwanzeg", "njëzet e një"),
    (45, "fënnefavéierzeg", "dyzet e pesë"), (100, "honnert", "njëqind"),
    (113, "honnert dräizéng", "njëqind e trembëdhjetë"),
    (352, "dräihonnert zweeafofzeg", "treqind e pesëdhjetë e dy"),
    (2026, "zweedausend sechsanzwanzeg", "dy mijë e njëzet e gjashtë"),
])
def test_known_numbers(n: int, lb: str, sq: str) -> None:
    assert (lb_number(n), sq_number(n)) == (lb, sq)


@pytest.mark.parametrize(("lang", "text", "said"), [
    ("lb", "Méindeg bis Freideg 08:00–16:00.", "Méindeg bis Freideg vun aacht bis siechzéng Auer."),
    ("lb", "09:00-12:00 an 13:30-17:00", "vun néng bis zwielef Auer an vun dräizéng Auer "
                                         "drësseg bis siwwenzéng Auer"),
    ("lb", "All Persoun ënner 18", "All Persoun ënner uechtzéng"),
    ("lb", "rufft 1 1 3 un", "rufft eent eent dräi un"),
    ("lb", "ass 0 0 3 5 2, 2 7", "ass null null dräi fënnef zwee, zwee siwen"),
    ("lb", "0800 11112", "null aacht null null eent eent eent eent zwee"),  # digit by digit
    ("lb", "Dag 3–5", "Dag dräi bis fënnef"),
    ("sq", "e hënë – e premte 08:00 – 16:00.", "e hënë – e premte nga ora tetë deri në orën "
                                               "gjashtëmbëdhjetë."),
    ("sq", "nën 18 vjeç", "nën tetëmbëdhjetë vjeç"),
    ("sq", "telefononi 1 9 2", "telefononi një nëntë dy"),
    ("fr", "08:00–16:00, 113", "08:00–16:00, 113"),  # a language without rules: as it is
])
def test_times_ranges_and_numbers_in_text(lang: str, text: str, said: str) -> None:
    assert spelled_out(text, lang) == said


class _Captured(Exception):
    pass


def _what_espeak_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make sound._run record the text file espeak-ng would read, instead of running it."""
    read: list[str] = []

    def fake_run(command: list[str], limited: bool = False) -> str:
        assert command[0] == "espeak-ng", command
        read.append(Path(command[command.index("-f") + 1]).read_text(encoding="utf-8"))
        raise _Captured

    monkeypatch.setattr(sound, "_run", fake_run)
    return read


@pytest.mark.parametrize(("profile", "lang"), [("luxembourg", "lb"), ("luxembourg", "sq"),
                                               ("kosovo", "sq")])
def test_no_digit_reaches_the_synthesizer(profile: str, lang: str, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Every text a caller can hear in lb or sq, as `ivr prompts synth` and the timing
    estimate hand it to espeak-ng."""
    read = _what_espeak_reads(monkeypatch)
    needs = PromptSet.load([PROFILES[profile]]).needs_of(lang)
    with_digits = [need for need in needs if DIGIT.search(need.text)]
    assert len(with_digits) >= 10  # the check has something to catch
    for need in needs:
        with pytest.raises(_Captured):
            sound.synthesize(need.text, lang, tmp_path / "out.wav")
    with pytest.raises(_Captured):
        sound.espeak_seconds([need.text for need in with_digits], lang)
    assert len(read) == len(needs) + 1
    assert [text for text in read if DIGIT.search(text)] == []
