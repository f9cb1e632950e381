"""What a profile makes callers hear that no catalog translates: `ivr check-profile` fails on it.

Plain functions over a loaded profile and the catalogs; no Flask.
"""

from __future__ import annotations

from ivr.content.i18n import SOURCE_LANGUAGE, Catalogs
from ivr.content.profile import Profile
from ivr.content.speech import destination_prompt


def spoken_text_problems(profile: Profile, catalogs: Catalogs) -> list[str]:
    """`file: key: problem` for each spoken text a language of the profile cannot say.

    A destination's label is put into "Connecting you to …": without a translatable
    `destination.NAME` prompt, every caller would hear the label in its own language
    (a French unit name inside Chinese). Every prompt a caller can hear needs a
    translation (fuzzy counts: it is spoken) in every language of the profile; so does
    the hotline's name where the profile lets it translate (`hotline.name` in [prompts]).
    """
    where = profile.path.name
    problems = [
        f"{where}: destinations.{name}.label: said to callers in every language; add "
        f'"{destination_prompt(name)}" (its English name) under [prompts] and translate it'
        for name in sorted(profile.destinations)
        if destination_prompt(name) not in profile.prompts]
    for prompt_id in profile.all_prompt_ids():
        source = profile.prompt_text(prompt_id)
        missing = [code for code in profile.languages
                   if code != SOURCE_LANGUAGE
                   and catalogs.lookup(code, prompt_id, source) is None]
        if missing:
            problems.append(f"{where}: prompts.{prompt_id}: no translation in "
                            f"{', '.join(missing)} (ivr i18n extract, then update the catalogs)")
    return problems
