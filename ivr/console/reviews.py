"""Reviews of translations, and carrying them into the catalogs with Babel's catalog API."""

from __future__ import annotations

from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po
from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.console.i18n import _
from ivr.console.menu import SOURCE, PromptView, distinct_prompts, prompt_view, review_hash
from ivr.console.models import Review
from ivr.content import i18n
from ivr.content.i18n import CLDR_LOCALES, SOURCE_LANGUAGE
from ivr.voice.hotline import Hotline

VERDICTS = ("reviewed", "comment")


def current_reviews(session: Session) -> dict[tuple[str, str], set[str]]:
    """(lang, prompt id) → the text hashes a reviewer has marked reviewed."""
    found: dict[tuple[str, str], set[str]] = {}
    for lang, prompt_id, digest in session.execute(
            select(Review.lang, Review.prompt_id, Review.text_hash)
            .where(Review.verdict == "reviewed")):
        found.setdefault((lang, prompt_id), set()).add(digest)
    return found


def record_review(session: Session, hotline: Hotline, operator_id: int, lang: str,
                  prompt_id: str, verdict: str, comment: str, seen_hash: str) -> Review:
    """Record a verdict on the translation the reviewer saw; refuse one on a changed text."""
    profile = hotline.profile
    if lang not in profile.languages or lang == SOURCE_LANGUAGE:
        raise ValueError(_("Choose one of the hotline's translated languages."))
    if prompt_id not in profile.all_prompt_ids():
        raise ValueError(_("There is no such prompt."))
    if verdict not in VERDICTS:
        raise ValueError(_("Mark the prompt reviewed, or write a comment."))
    if verdict == "comment" and not comment:
        raise ValueError(_("Write the comment first."))
    source = profile.prompt_text(prompt_id)
    found = hotline.catalogs.lookup(lang, prompt_id, source)
    if verdict == "reviewed" and found is None:
        raise ValueError(_("There is no translation to review yet; leave a comment instead."))
    digest = review_hash(source, found.text if found else None)
    if seen_hash and seen_hash != digest:
        raise ValueError(_("The text changed since the page was loaded; reload and read it again."))
    review = Review(lang=lang, prompt_id=prompt_id, text_hash=digest, verdict=verdict,
                    comment=comment or None, operator_id=operator_id)
    session.add(review)
    session.flush()
    return review


def _po_path(lang: str, locales_dir: Path | None) -> Path:
    return (locales_dir or i18n.LOCALES_DIR) / lang / "LC_MESSAGES" / "messages.po"


def apply_to_catalog(catalog: Catalog, lang: str,
                     reviewed: dict[tuple[str, str], set[str]]) -> int:
    """Clear `fuzzy` on every message whose exact text was reviewed; the count cleared."""
    cleared = 0
    for message in catalog:
        if not message.id or not message.context or not message.fuzzy:
            continue
        if not isinstance(message.id, str) or not isinstance(message.string, str):
            continue
        digest = review_hash(message.id, message.string or None)
        if digest in reviewed.get((lang, message.context), set()):
            message.flags.discard("fuzzy")
            cleared += 1
    return cleared


def _read(path: Path, lang: str) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=CLDR_LOCALES.get(lang, lang))


def catalog_with_reviews(session: Session, lang: str,
                         locales_dir: Path | None = None) -> tuple[bytes | None, int]:
    """The .po file of a language with reviews applied (for download), and how many."""
    path = _po_path(lang, locales_dir)
    if not path.exists():
        return None, 0
    catalog = _read(path, lang)
    cleared = apply_to_catalog(catalog, lang, current_reviews(session))
    out = BytesIO()
    write_po(out, catalog)
    return out.getvalue(), cleared


def apply_reviews(session: Session, languages: list[str],
                  locales_dir: Path | None = None) -> dict[str, int]:
    """Write the reviews into each language's catalog; the catalog files stay the truth."""
    reviewed = current_reviews(session)
    counts: dict[str, int] = {}
    for lang in languages:
        path = _po_path(lang, locales_dir)
        if lang == SOURCE_LANGUAGE or not path.exists():
            continue
        catalog = _read(path, lang)
        cleared = apply_to_catalog(catalog, lang, reviewed)
        counts[lang] = cleared
        if cleared:
            out = BytesIO()
            write_po(out, catalog)
            path.write_bytes(out.getvalue())
    return counts


@dataclass
class ReviewItem:
    """One prompt's translation as a reviewer sees it, with its review history."""

    view: PromptView
    latest: Review | None = None  # the latest "reviewed" verdict, current or not
    comments: list[Review] = field(default_factory=list)

    @property
    def reopened(self) -> bool:
        """Reviewed once, but the text has changed since."""
        return self.latest is not None and not self.view.reviewed


@dataclass
class ReviewOverview:
    lang: str
    waiting: list[ReviewItem] = field(default_factory=list)  # translated, not reviewed
    reviewed: list[ReviewItem] = field(default_factory=list)
    missing: list[ReviewItem] = field(default_factory=list)  # nothing to review yet


def review_overview(session: Session, hotline: Hotline, lang: str) -> ReviewOverview:
    """Every prompt of a language sorted for a reviewer: waiting, reviewed, missing."""
    overview = ReviewOverview(lang)
    reviewed = current_reviews(session)
    history: dict[str, list[Review]] = {}
    for review in session.scalars(select(Review).where(Review.lang == lang)
                                  .order_by(Review.at.desc())):
        history.setdefault(review.prompt_id, []).append(review)
        review.operator.name  # noqa: B018  (loaded while the session is open)
    for use in distinct_prompts(hotline.profile):
        view = prompt_view(hotline, lang, use, reviewed)
        past = history.get(use.prompt_id, [])
        item = ReviewItem(view, next((r for r in past if r.verdict == "reviewed"), None),
                          [r for r in past if r.verdict == "comment"])
        if view.template is None and view.translation != SOURCE:
            overview.missing.append(item)
        elif view.text_ready:
            overview.reviewed.append(item)
        else:
            overview.waiting.append(item)
    # Fuzzy first: those are the machine-made or outdated ones callers hear unchecked.
    overview.waiting.sort(key=lambda item: (item.view.translation != "fuzzy",
                                            not item.reopened))
    return overview
