"""The call menu as operators review it: tree, prompt texts per language, and readiness.

Plain functions over the Hotline (profile, catalogs, audio, prompter); no Flask here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from babel import Locale, UnknownLocaleError

from ivr.console.i18n import N_, _, language_label, menu_name
from ivr.content.i18n import CLDR_LOCALES, SOURCE_LANGUAGE, language_name
from ivr.content.profile import MORE_LANGUAGES_KEY, Node, Profile
from ivr.content.speech import Utterance, is_part_of_other_prompts
from ivr.content.texts import placeholders
from ivr.voice.hotline import Hotline

# Translation states, then audio states, as the badges show them. APPROVED: a text two
# operators approved in the console (it is what callers hear, whatever the catalog says).
SOURCE, TRANSLATED, FUZZY, MISSING = "source", "translated", "fuzzy", "missing"
APPROVED = "approved"
RECORDED, SYNTHESIZED, STALE = "recorded", "synthesized", "stale"
# What a caller of a language really hears of a prompt (the Prompter's decision), and why.
HEARD_RECORDING = "recording"  # a person's recording (a file, or one made in the console)
HEARD_SYNTHESIZED = "synthesized file"  # a synthesized placeholder file
HEARD_VOICE = "Twilio voice"  # Twilio's voice for the language reads the text
ENGLISH_UNTRANSLATED = "English: no translation"
ENGLISH_NO_AUDIO = "English: no audio"  # translated, but neither a file nor a voice
ENGLISH_NAMED = "English: named option"  # the language menu names the language in English
NOT_HEARD = "not heard"  # the call flow never says it to this language's callers
INSIDE_OTHERS = "inside other prompts"  # a name or a range of days, never said alone
TEXT_MESSAGE = "text message"  # sent by SMS, never said
STAFF_ONLY = "staff only"  # the whisper and the staff door: heard by the helpline's staff
LANGUAGE_MENU = "languages"  # the pseudo-node of the greeting and the language menu
ELSEWHERE = "elsewhere"  # prompts the engine says outside any one menu node


def review_hash(source: str, translation: str | None) -> str:
    """The hash a review keeps: of the English source and the translation together."""
    return hashlib.sha256(f"{source}\x00{translation or ''}".encode()).hexdigest()


def text_direction(lang: str) -> str:
    """"rtl" for a right-to-left language (Arabic), else "ltr", from CLDR."""
    try:
        locale = Locale.parse(CLDR_LOCALES.get(lang, lang))
    except (ValueError, UnknownLocaleError):
        return "ltr"
    return "rtl" if locale.character_order == "right-to-left" else "ltr"


@dataclass(frozen=True, slots=True)
class PromptUse:
    """A prompt where the menu says it, with the values the engine fills in there."""

    prompt_id: str
    key: str | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class Branch:
    """One key of a menu node and where it leads."""

    key: str
    prompt_id: str
    action: str
    target: str | None
    label: str


@dataclass
class MenuNode:
    name: str
    title: str
    prompts: list[PromptUse]
    branches: list[Branch] = field(default_factory=list)
    depth: int = 0
    reachable: bool = True


@dataclass(frozen=True)
class PromptView:
    """One prompt in one language, as the caller gets it, with its badges."""

    prompt_id: str
    lang: str  # the language asked for
    lang_used: str  # the language the caller actually hears (English where missing)
    direction: str
    source: str  # English source text (unfilled)
    template: str | None  # the catalog's translation (unfilled), None where missing
    text: str  # the filled text the caller hears
    translation: str  # source | translated | fuzzy | missing
    audio: str  # recorded | synthesized | stale | missing
    audio_url: str | None  # the file the caller hears, when one is current
    voice: str | None  # Twilio's voice that speaks it otherwise
    review_hash: str
    reviewed: bool = False
    heard_as: str = ""  # what this language's caller really hears: one of HEARD_*, ...
    heard_file: str | None = None  # the manifest file played, relative to prompts/

    @property
    def heard_note(self) -> str:
        """What a caller of this language hears of the prompt, and why, in one sentence."""
        name = language_label(self.lang)
        file = self.heard_file
        if self.heard_as == HEARD_RECORDING:
            return _("%(language)s callers hear the recording %(file)s.", language=name,
                     file=file) if file else _("%(language)s callers hear the recording "
                                               "made in the console.", language=name)
        if self.heard_as == HEARD_SYNTHESIZED:
            return _("%(language)s callers hear the synthesized file %(file)s (a placeholder "
                     "until someone records it).", language=name, file=file or "")
        notes = {
            HEARD_VOICE: N_("No current recording: Twilio's voice %(voice)s speaks this text."),
            ENGLISH_UNTRANSLATED: N_("No translation: the caller hears this in English."),
            ENGLISH_NO_AUDIO: N_("Translated, but no %(language)s audio file and no Twilio "
                                 "voice for %(language)s: the caller hears this in English, "
                                 "after the notice that English follows."),
            ENGLISH_NAMED: N_("Translated, but no %(language)s audio file and no Twilio voice "
                              "for %(language)s: the language menu names %(language)s in "
                              "English instead."),
            NOT_HEARD: N_("Not heard in %(language)s: the call flow never says this to "
                          "%(language)s callers."),
            INSIDE_OTHERS: N_("Not heard on its own: it is said inside other prompts."),
            TEXT_MESSAGE: N_("Not heard in %(language)s: it is a text message, never said in "
                             "a call."),
            STAFF_ONLY: N_("Not heard in %(language)s: only the helpline's staff hear it."),
        }
        note = notes.get(self.heard_as)
        return _(note, language=name, voice=self.voice or "") if note else ""

    @property
    def text_ready(self) -> bool:
        """The text is one a person stands behind: the source, approved in the console,
        a reviewed catalog entry, or one not marked fuzzy."""
        return self.translation in (SOURCE, APPROVED, TRANSLATED) or (
            self.translation == FUZZY and self.reviewed)

    @property
    def problems(self) -> list[str]:
        """Why this prompt is not ready for callers in its language (empty when ready)."""
        found = []
        if self.translation == MISSING:
            found.append(_("translation missing"))
        elif self.translation == FUZZY and not self.reviewed:
            found.append(_("translation not reviewed"))
        if self.audio_url is None and self.voice is None:
            found.append(_("no recording and no Twilio voice"))
        elif self.audio == STALE:
            found.append(_("recording is stale"))
        return found

    @property
    def ready(self) -> bool:
        return not self.problems


def _action_label(profile: Profile, action: str, target: str | None) -> str:
    if action == "goto" and target:
        return _("menu %(name)s", name=menu_name(target))
    if action == "connect" and target:
        destination = profile.destinations.get(target)
        return _("call %(whom)s", whom=destination.label if destination else target)
    labels = {"record": N_("leave a voice message"), "send_sms": N_("get the numbers by text"),
              "languages": N_("language menu")}
    return _(labels[action]) if action in labels else action


def _node(profile: Profile, node: Node) -> MenuNode:
    prompts = [PromptUse(node.prompt)] if node.prompt else []
    branches = []
    for option in node.options:
        prompts.append(PromptUse(option.prompt, key=option.key))
        branches.append(Branch(option.key, option.prompt, option.action, option.target,
                               _action_label(profile, option.action, option.target)))
    if node.outro:
        prompts.append(PromptUse(node.outro))
    return MenuNode(node.name, menu_name(node.name), prompts, branches)


def menu_tree(profile: Profile) -> list[MenuNode]:
    """Every menu node in call order (depth first from the start), then the ones reached
    otherwise (closed lines, nobody answered), then prompts said anywhere."""
    language_menu = MenuNode(LANGUAGE_MENU, _("greeting and language menu"), [
        PromptUse("greeting"), PromptUse("language.option", note="each language in itself"),
        PromptUse("language.more", key=MORE_LANGUAGES_KEY), PromptUse("language.person")],
        [Branch(lang.key if lang.page == 1 else f"{MORE_LANGUAGES_KEY} {lang.key}",
                "language.option", "goto", profile.start_node,
                _("%(language)s: menu %(name)s", language=language_label(lang.code),
                  name=menu_name(profile.start_node))) for lang in sorted(
                    profile.languages.values(), key=lambda lang: (lang.page, lang.key))])
    ordered = [language_menu]
    seen = {LANGUAGE_MENU}

    def visit(name: str, depth: int, reachable: bool) -> None:
        if name in seen or name not in profile.nodes:
            return
        seen.add(name)
        item = _node(profile, profile.nodes[name])
        item.depth, item.reachable = depth, reachable
        ordered.append(item)
        for branch in item.branches:
            if branch.action == "goto" and branch.target:
                visit(branch.target, depth + 1, reachable)

    visit(profile.start_node, 1, True)
    for name in profile.nodes:
        visit(name, 1, False)
    used = {use.prompt_id for item in ordered for use in item.prompts}
    rest = [PromptUse(pid) for pid in profile.all_prompt_ids() if pid not in used]
    ordered.append(MenuNode(ELSEWHERE, _("said anywhere in a call, and text messages"), rest))
    return ordered


def sample_values(hotline: Hotline, lang: str, use: PromptUse) -> dict[str, str]:
    """Values for a prompt's call-time placeholders, as the engine would fill them here."""
    profile = hotline.profile
    language = profile.languages.get(lang)
    values: dict[str, str] = {}
    source = profile.prompt_text(use.prompt_id)
    for name in placeholders(source):
        if name == "key":
            values[name] = use.key or (language.key if language else "1")
        elif name == "more":
            values[name] = MORE_LANGUAGES_KEY
        elif name == "language":
            values[name] = language_name(lang, lang) if lang in profile.languages or (
                lang == SOURCE_LANGUAGE) else lang
        elif name == "destination":
            values[name] = profile.destinations[profile.person].label
    return values


def spoken_in(hotline: Hotline, lang: str) -> frozenset[str]:
    """The prompt ids the call flow says to callers of a language."""
    return hotline.spoken_prompts.get(lang, frozenset())


def heard_as(hotline: Hotline, lang: str, prompt_id: str, translated: bool,
             heard: Utterance) -> tuple[str, str | None]:
    """(what a caller of `lang` hears of a prompt, the manifest file played if any), from
    the Prompter's own utterance: the decision the call path makes."""
    if prompt_id not in spoken_in(hotline, lang):
        if is_part_of_other_prompts(prompt_id):
            return INSIDE_OTHERS, None
        if prompt_id.startswith("sms."):
            return TEXT_MESSAGE, None
        if prompt_id.startswith(("whisper", "staff.")):
            return STAFF_ONLY, None
        return NOT_HEARD, None
    if heard.lang != lang:
        if not translated:
            return ENGLISH_UNTRANSLATED, None
        return (ENGLISH_NO_AUDIO if heard.prompt_id == prompt_id else ENGLISH_NAMED), None
    if heard.audio_url is None:
        return HEARD_VOICE, None
    audio = hotline.audio.current(heard.lang, heard.prompt_id, heard.text)
    if audio is not None and hotline.audio.url(audio) == heard.audio_url:
        try:
            file: str | None = audio.path.relative_to(hotline.audio.root).as_posix()
        except ValueError:
            file = audio.path.name
        return (HEARD_RECORDING if audio.source == RECORDED else HEARD_SYNTHESIZED), file
    return HEARD_RECORDING, None  # a recording approved in the console (published)


def prompt_view(hotline: Hotline, lang: str, use: PromptUse,
                reviews: Mapping[tuple[str, str], set[str]] | None = None) -> PromptView:
    """A prompt in a language: text, what the caller hears, and the state of each part.

    `reviews` maps (lang, prompt id) to the text hashes a reviewer marked reviewed.
    """
    profile, prompter = hotline.profile, hotline.prompter
    source = profile.prompt_text(use.prompt_id)
    found = hotline.catalogs.lookup(lang, use.prompt_id, source)
    published = prompter.published
    approved = published.text(lang, use.prompt_id, source) \
        if published is not None and lang != SOURCE_LANGUAGE else None
    if lang == SOURCE_LANGUAGE:
        translation = SOURCE
    elif approved is not None:
        translation = APPROVED
    elif found is None:
        translation = MISSING
    else:
        translation = FUZZY if found.fuzzy else TRANSLATED
    template = approved if approved is not None else found.text if found else None
    extra = sample_values(hotline, lang, use)
    text, used = prompter.text(lang, use.prompt_id, extra)
    current = hotline.audio.current(lang, use.prompt_id, text) if used == lang else None
    taken = published.audio_url(lang, use.prompt_id, text) \
        if published is not None and used == lang else None
    if taken is not None:
        audio = RECORDED  # a take approved in the console speaks exactly this text
    elif current is not None:
        audio = current.source
    elif any(key[:2] == (lang, use.prompt_id) for key in hotline.audio.files):
        audio = STALE  # a file exists, but for a text that has changed since
    else:
        audio = MISSING
    heard = prompter.utterance(lang, use.prompt_id, **extra)
    voice = None
    if heard.audio_url is None:
        voice = " ".join(v for v in (heard.say_language, heard.say_voice) if v)
    digest = review_hash(source, template)
    kind, file = heard_as(hotline, lang, use.prompt_id, used == lang, heard)
    return PromptView(
        prompt_id=use.prompt_id, lang=lang, lang_used=heard.lang,
        direction=text_direction(heard.lang), source=source, template=template,
        text=heard.text, translation=translation, audio=audio, audio_url=heard.audio_url,
        voice=voice, review_hash=digest, heard_as=kind, heard_file=file,
        reviewed=translation == APPROVED
        or digest in (reviews or {}).get((lang, use.prompt_id), set()))


def distinct_prompts(profile: Profile) -> list[PromptUse]:
    """Every prompt of the hotline once, where the menu first uses it: the one list every
    page counts (Overview, Review, Script, the menu)."""
    found: dict[str, PromptUse] = {}
    for node in menu_tree(profile):
        for use in node.prompts:
            found.setdefault(use.prompt_id, use)
    return list(found.values())


@dataclass(frozen=True)
class TextSummary:
    """How far a language's texts are: the same totals on every page."""

    total: int
    ready: int  # a person stands behind it (approved here, reviewed, or not fuzzy)
    waiting: int  # translated, waiting for a native speaker's review
    missing: int  # not translated: callers hear English


def text_summary(views: Iterable[PromptView]) -> TextSummary:
    """The totals of the views of a language's distinct prompts."""
    listed = list(views)
    ready = sum(view.text_ready for view in listed)
    missing = sum(view.template is None and view.translation != SOURCE for view in listed)
    return TextSummary(len(listed), ready, len(listed) - ready - missing, missing)


def language_choices(profile: Profile) -> list[tuple[str, str]]:
    """(code, name) of English and every profile language, named in the console's language."""
    codes = [SOURCE_LANGUAGE] + [c for c in profile.languages if c != SOURCE_LANGUAGE]
    return [(code, language_label(code)) for code in codes]


def not_ready(hotline: Hotline, lang: str, tree: Iterable[MenuNode],
              reviews: Mapping[tuple[str, str], set[str]] | None = None) -> list[PromptView]:
    """Every distinct prompt that is not ready for callers in a language."""
    found: dict[str, PromptView] = {}
    for item in tree:
        for use in item.prompts:
            if use.prompt_id not in found:
                view = prompt_view(hotline, lang, use, reviews)
                if not view.ready:
                    found[use.prompt_id] = view
    return list(found.values())
