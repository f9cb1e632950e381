"""The caller's time beside the throughput: seconds of prompts from the first ring to a
ringing phone, per language of every profile, as `ivr prompts timing` computes them.

Three callers: one who stays silent, one who presses 0 at once (barge-in: they hear only
what is said before the phones ring), and one who listens to each menu in full and picks
"talk to the helpline". The figures come from ivr/voice/timing.py (the engine renders each
step; audio files' durations or the measured speaking rate give the seconds).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class CallerTime:
    """One language of one profile: seconds of prompts until the helpline's phone rings."""

    profile: str  # the profile file's stem
    lang: str
    silent: float
    press_0: float
    listening: float
    listening_keys: str  # the keys the listening caller presses, e.g. "9 2 1"


def caller_times(profile_paths: Sequence[Path] = ()) -> list[CallerTime]:
    """Every language of every profile (default: the shipped ones and HOTLINE_PROFILE)."""
    from ivr.content.prompt_set import PromptSet, default_profiles
    from ivr.content.script import SpeakingRates
    from ivr.voice.engine import Caller, Engine
    from ivr.voice.simulate import parse_twiml
    from ivr.voice.state import CallState
    from ivr.voice.timing import Clocker, timing_rows

    prompts = PromptSet.load(list(profile_paths) or default_profiles())
    rates = SpeakingRates(prompts)
    found: list[CallerTime] = []
    for profile_set in prompts.profiles:
        profile = profile_set.profile
        clock = Clocker(prompts, profile_set, rates)
        engine = Engine(profile, profile_set.prompter, "/voice")
        # 0 pressed during the first prompt: the engine's answer is all they hear before
        # the ring (the same for every language: nobody has chosen one yet).
        answer = engine.choose_language(CallState(page=1), "0", Caller())
        press_0 = clock.all(parse_twiml(answer.twiml).heard)
        for row in timing_rows(prompts, profile_set, rates):
            found.append(CallerTime(profile.path.stem, row.lang, round(row.silent_to_ring, 1),
                                    round(press_0, 1), round(row.listening_to_ring, 1),
                                    row.listening_keys))
    return found


def caller_table(times: Sequence[CallerTime]) -> str:
    rows = [f"{'profile':<12} {'lang':<5} {'silent s':>9} {'press 0 s':>10} "
            f"{'listening s':>12}  keys"]
    rows += [f"{t.profile:<12} {t.lang:<5} {t.silent:>9.1f} {t.press_0:>10.1f} "
             f"{t.listening:>12.1f}  {t.listening_keys}" for t in times]
    return "\n".join(rows)


def as_json(times: Sequence[CallerTime]) -> list[dict[str, object]]:
    return [asdict(t) for t in times]
