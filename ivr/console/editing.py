"""Correcting a translation in the console: drafts, approval by a second operator, history.

Plain functions over a database session and the Hotline; no Flask here. Every save is a new
PromptText row, so the history is the table; approving one replaces the approved before it.
The profile option `[console] single_sign_off = true` lets an operator approve their own
draft (a helpline with one native speaker of a language); by default it takes two people.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

from ivr.console.i18n import _, gettext
from ivr.console.menu import PromptUse, menu_tree, sample_values
from ivr.console.models import PromptText
from ivr.console.published import APPROVED, hotline_key, sha256_of
from ivr.content.i18n import SOURCE_LANGUAGE, refusal
from ivr.content.profile import Profile
from ivr.content.texts import fill, placeholders
from ivr.voice.hotline import Hotline

DRAFT, REPLACED = "draft", "replaced"
MAX_TEXT = 1000
# Anything that looks like a placeholder but is not one: %(name) without s, %s, {name}.
_STRAY = re.compile(r"%\(|%[sd]|\{\w*\}")


class EditError(ValueError):
    """A change the console refuses; the message says why, for the operator."""


def single_sign_off(profile: Profile) -> bool:
    """The profile's `[console] single_sign_off`: may one operator approve their own draft."""
    return profile.single_sign_off


def placeholder_problems(source: str, text: str) -> list[str]:
    """Why a translation's placeholders differ from the English source's (empty when right)."""
    expected, found = set(placeholders(source)), set(placeholders(text))
    problems = [gettext("%(placeholder)s is missing: the English has it.",
                        placeholder=f"%({name})s") for name in sorted(expected - found)]
    problems += [gettext("%(placeholder)s is not in the English: remove it.",
                         placeholder=f"%({name})s") for name in sorted(found - expected)]
    if _STRAY.search(re.sub(r"%\(\w+\)s", "", text)):
        problems.append(gettext("Something looks like a placeholder but is not one: write "
                                "placeholders exactly as %(example)s, as in the English.",
                                example="%(name)s"))
    return problems


def render_problem(hotline: Hotline, lang: str, prompt_id: str, text: str) -> str | None:
    """Why a text cannot go live (None when it can): rendered as the caller or texter gets
    it, placeholders filled, in the TwiML that carries it, and parsed back."""
    why = refusal(text, lang)
    if why:
        return why
    filled = preview(hotline, lang, prompt_id, text)
    spoken, texted = VoiceResponse(), MessagingResponse()
    spoken.say(filled)  # a prompt is said, or (sms.*) sent: both documents must parse
    texted.message(filled)
    try:
        for document in (str(spoken), str(texted)):
            ET.fromstring(document)
    except ET.ParseError as exc:
        return f"As callers would get it, the text does not make a valid document ({exc})."
    return None


def prompt_use(profile: Profile, prompt_id: str) -> PromptUse:
    """Where the menu first says a prompt (its key there), or the prompt said anywhere."""
    for node in menu_tree(profile):
        for use in node.prompts:
            if use.prompt_id == prompt_id:
                return use
    return PromptUse(prompt_id)


def preview(hotline: Hotline, lang: str, prompt_id: str, text: str) -> str:
    """A text as the caller hears it: placeholders filled as the engine fills them."""
    return fill(text, fill_values(hotline, lang, prompt_id))


def fill_values(hotline: Hotline, lang: str, prompt_id: str) -> dict[str, str]:
    """The values placeholders take in a language (for the page's live preview)."""
    return {**hotline.prompter.params(lang),
            "number_now": hotline.prompter.number_now(lang),  # the line that rings now
            **sample_values(hotline, lang, prompt_use(hotline.profile, prompt_id))}


@dataclass(frozen=True)
class LiveText:
    text: str | None  # the translation callers hear now, None where there is none
    origin: str  # approved (in the console) | catalog | catalog-fuzzy | missing


def live_text(session: Session, hotline: Hotline, lang: str, prompt_id: str) -> LiveText:
    """The translation callers hear (approved here, else the catalog's), read from the database."""
    source = hotline.profile.prompt_text(prompt_id)
    approved = session.scalar(_versions(hotline, lang, prompt_id)
                              .where(PromptText.state == APPROVED,
                                     PromptText.source_hash == sha256_of(source)))
    if approved is not None:
        return LiveText(approved.text, "approved")
    found = hotline.catalogs.lookup(lang, prompt_id, source)
    if found is None:
        return LiveText(None, "missing")
    return LiveText(found.text, "catalog-fuzzy" if found.fuzzy else "catalog")


def _versions(hotline: Hotline, lang: str, prompt_id: str):  # type: ignore[no-untyped-def]
    return (select(PromptText).where(PromptText.hotline == hotline_key(hotline.profile),
                                     PromptText.lang == lang, PromptText.prompt_id == prompt_id)
            .order_by(PromptText.id.desc()))


def check_prompt(hotline: Hotline, lang: str, prompt_id: str) -> None:
    profile = hotline.profile
    if lang not in profile.languages or lang == SOURCE_LANGUAGE:
        raise EditError(_("Choose one of the hotline's translated languages."))
    if prompt_id not in profile.all_prompt_ids():
        raise EditError(_("There is no such prompt."))


def save_draft(session: Session, hotline: Hotline, author: str, lang: str, prompt_id: str,
               text: str, note: str | None = None) -> PromptText:
    """Save a corrected translation as a draft; refused with the reason when it is not right."""
    check_prompt(hotline, lang, prompt_id)
    text = text.strip()
    if not text:
        raise EditError(_("Write the translation first."))
    if len(text) > MAX_TEXT:
        raise EditError(_("A prompt is at most %(num)s characters.", num=MAX_TEXT))
    why = refusal(text, lang)
    if why:
        raise EditError(why)
    source = hotline.profile.prompt_text(prompt_id)
    problems = placeholder_problems(source, text)
    if problems:
        raise EditError(" ".join(problems))
    live = live_text(session, hotline, lang, prompt_id)
    if text == live.text and live.origin in ("approved", "catalog"):
        raise EditError(_("Callers already hear exactly this text."))
    for older in session.scalars(_versions(hotline, lang, prompt_id)
                                 .where(PromptText.state == DRAFT)):
        older.state = REPLACED  # one draft at a time: the newest
    row = PromptText(hotline=hotline_key(hotline.profile), lang=lang, prompt_id=prompt_id,
                     source_hash=sha256_of(source), text=text, previous=live.text,
                     state=DRAFT, author=author, note=note)
    session.add(row)
    session.flush()
    return row


def approve(session: Session, hotline: Hotline, approver: str, text_id: int) -> PromptText:
    """Approve a draft: callers hear it after the next refresh; the approved before it stays
    in the history."""
    row = session.get(PromptText, text_id)
    if row is None or row.hotline != hotline_key(hotline.profile):
        raise EditError(_("There is no such draft."))
    if row.state != DRAFT:
        raise EditError(_("This version is not a draft waiting for approval."))
    if row.author == approver and not single_sign_off(hotline.profile):
        raise EditError(_("Another operator must approve your draft: this hotline's profile "
                        "asks for two people on every change."))
    source = hotline.profile.prompt_text(row.prompt_id)
    if row.source_hash != sha256_of(source):
        raise EditError(_("The English text changed after this draft: write it again."))
    # Nothing goes live that does not render: the last approved text stays until it does.
    why = render_problem(hotline, row.lang, row.prompt_id, row.text)
    if why:
        raise EditError(why)
    for older in session.scalars(_versions(hotline, row.lang, row.prompt_id)
                                 .where(PromptText.state == APPROVED)):
        older.state = REPLACED
    row.state = APPROVED
    row.approved_by = approver
    row.approved_at = datetime.now(UTC)
    session.flush()
    return row


def restore(session: Session, hotline: Hotline, author: str, text_id: int,
            previous: bool = False) -> PromptText:
    """Save an earlier version (or the text it replaced) again as a draft, to approve."""
    row = session.get(PromptText, text_id)
    if row is None or row.hotline != hotline_key(hotline.profile):
        raise EditError(_("There is no such version."))
    text = row.previous if previous else row.text
    if not text:
        raise EditError(_("There was no text before this version."))
    when = row.created_at.strftime("%Y-%m-%d %H:%M")
    note = (f"restores the text before {row.author}'s change of {when}" if previous
            else f"restores {row.author}'s version of {when}")
    return save_draft(session, hotline, author, row.lang, row.prompt_id, text, note)


def history(session: Session, hotline: Hotline, lang: str, prompt_id: str) -> list[PromptText]:
    """Every version of a prompt's translation, newest first."""
    return list(session.scalars(_versions(hotline, lang, prompt_id)))


def drafts(session: Session, hotline: Hotline) -> dict[tuple[str, str], tuple[str, str]]:
    """(lang, prompt) -> (source hash, text) of every draft waiting: for Try it's draft view."""
    found: dict[tuple[str, str], tuple[str, str]] = {}
    for row in session.scalars(select(PromptText).where(
            PromptText.hotline == hotline_key(hotline.profile), PromptText.state == DRAFT)
            .order_by(PromptText.id)):
        found[(row.lang, row.prompt_id)] = (row.source_hash, row.text)
    return found
