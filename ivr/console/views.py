"""The console's pages: thin views over ivr.console's plain functions."""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from flask_wtf.csrf import CSRFError
from limits.errors import StorageError
from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import TooManyRequests
from werkzeug.wrappers import Response as BaseResponse

from ivr.console import (
    SIGN_IN_LIMIT,
    SIGN_IN_LIMIT_PER_NAME,
    csrf,
    limiter,
    security_headers,
    sign_in_name,
)
from ivr.console.accounts import HashingBusy, SignedIn, authenticate, sign_out_everywhere
from ivr.console.editing import drafts
from ivr.console.graph import menu_dot, render_svg
from ivr.console.i18n import _, current_language, hotline_time, language_label, prompt_label
from ivr.console.menu import (
    ELSEWHERE,
    MenuNode,
    PromptView,
    distinct_prompts,
    language_choices,
    menu_tree,
    prompt_view,
    text_direction,
    text_summary,
)
from ivr.console.models import Review
from ivr.console.published import stop_drafts, use_drafts
from ivr.console.reviews import (
    catalog_with_reviews,
    current_reviews,
    record_review,
    review_overview,
)
from ivr.console.store import session_scope
from ivr.console.tryit import TryState, run
from ivr.content.i18n import SOURCE_LANGUAGE
from ivr.voice.hotline import HOTLINE, Hotline

log = logging.getLogger(__name__)

bp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates",
               static_folder="static", static_url_path="/static")

OPEN_ENDPOINTS = frozenset({"console.login", "console.static"})
# A console path in printable ASCII: no CR/LF (a header split), no space, no other site.
SAFE_NEXT = re.compile(r"^/console(?:[/?#][\x21-\x7e]*)?$")
KEYPAD = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"]


def hotline() -> Hotline:
    return HOTLINE.get()


def operator() -> SignedIn:
    return current_user  # type: ignore[return-value]


@bp.before_request
def guard() -> BaseResponse | None:
    """Nothing but sign-in (and its stylesheet) without a session; CSRF on every POST."""
    if request.endpoint not in OPEN_ENDPOINTS and not current_user.is_authenticated:
        return redirect(url_for("console.login", next=request.full_path.rstrip("?")))
    if request.method == "POST":
        csrf.protect()
    return None


bp.after_request(security_headers)


@bp.errorhandler(CSRFError)
def csrf_refused(error: CSRFError) -> tuple[str, int]:
    return render_template("console/error.html", title=_("Form expired"),
                           message=_("This form was too old or not from this console. "
                                     "Go back, reload the page and try again.")), 400


@bp.errorhandler(SQLAlchemyError)
def database_down(error: SQLAlchemyError) -> tuple[str, int]:
    log.warning("console: the database failed: %s", type(error).__name__)
    return render_template("console/error.html", title=_("Database unavailable"),
                           message=_("The console cannot reach its database just now. Calls "
                                     "go on as usual. Text messages still reach the helpline, "
                                     "marked #---- and without a case code: they cannot be "
                                     "answered by SMS until the database is back. Voice "
                                     "messages stay at Twilio (`ivr recordings sync` brings "
                                     "back any missed). Try again in a minute.")), 503


@bp.errorhandler(RedisError)
@bp.errorhandler(StorageError)
def limits_down(error: Exception) -> tuple[str, int]:
    """The shared store of attempt counts (Redis) does not answer: no sign-in is checked
    while attempts cannot be counted (calls go on as usual)."""
    log.warning("console: the limit store failed: %s", type(error).__name__)
    return render_template("console/error.html", title=_("Try again shortly"),
                           message=_("Sign-in attempts cannot be counted just now, so none "
                                     "is checked. Calls go on as usual. Try again in a "
                                     "minute.")), 503


@bp.errorhandler(TooManyRequests)
def too_many(error: TooManyRequests) -> tuple[str, int]:
    return render_template("console/error.html", title=_("Too many attempts"),
                           message=_("Too many sign-in attempts. Wait a few minutes, "
                                     "then try again.")), 429


def _safe_next(target: str | None) -> str:
    """Only a path on this console after sign-in: never another site, nor a line break."""
    if target and SAFE_NEXT.match(target) and not urlsplit(target).netloc \
            and "\\" not in target and ".." not in target:
        return target
    return url_for("console.menu")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(SIGN_IN_LIMIT, methods=["POST"])
@limiter.limit(SIGN_IN_LIMIT_PER_NAME, methods=["POST"], key_func=sign_in_name)
def login() -> BaseResponse | tuple[str, int] | str:
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(url_for("console.menu"))
        return render_template("console/login.html", title=_("Sign in"), error=None)
    name = (request.form.get("name") or "").strip()[:64]
    password = (request.form.get("password") or "")[:1024]
    try:
        with session_scope() as db:
            found = authenticate(db, name, password) if name and password else None
            signed = SignedIn(found.id, found.name, found.session_token,
                              found.language) if found else None
    except HashingBusy:
        return render_template("console/login.html", title=_("Sign in"), name=name,
                               error=_("Too many sign-ins at this moment. Try again in a few "
                                       "seconds.")), 503
    if signed is None:
        return render_template("console/login.html", title=_("Sign in"), name=name,
                               error=_("That name and password do not match an operator.")
                               ), 401
    session.clear()  # a new session at sign-in: nothing from before carries over
    session.permanent = True  # so that it ends after PERMANENT_SESSION_LIFETIME
    login_user(signed)
    return redirect(_safe_next(request.args.get("next")))


@bp.post("/logout")
def logout() -> BaseResponse:
    with session_scope() as db:
        sign_out_everywhere(db, operator().id)
    logout_user()
    session.clear()
    flash(_("You are signed out."))
    return redirect(url_for("console.login"))


def _language_arg(name: str, default: str) -> str:
    codes = {code for code, _ in language_choices(hotline().profile)}
    value = request.args.get(name) or default
    return value if value in codes else default


def _reviews() -> dict[tuple[str, str], set[str]]:
    with session_scope() as db:
        return current_reviews(db)


@bp.get("/menu")
def menu() -> str:
    h = hotline()
    lang = _language_arg("lang", h.profile.default_language)
    ref = _language_arg("ref", SOURCE_LANGUAGE)
    only_not_ready = request.args.get("show") == "not-ready"
    tree = menu_tree(h.profile)
    reviews = _reviews()
    with session_scope() as db:
        comments = _comments(db)
    rows: list[tuple[MenuNode, list[tuple[PromptView, PromptView]]]] = []
    shown: set[str] = set()
    for item in tree:
        pairs = []
        for use in item.prompts:
            view = prompt_view(h, lang, use, reviews)
            if only_not_ready and (view.ready or use.prompt_id in shown):
                continue
            shown.add(use.prompt_id)
            pairs.append((view, prompt_view(h, ref, use, reviews)))
        if pairs or not only_not_ready:
            rows.append((item, pairs))
    svg = _menu_svg(h, tree)
    return render_template(
        "console/menu.html", title=_("Menu"), rows=rows, lang=lang, ref=ref,
        languages=language_choices(h.profile), only_not_ready=only_not_ready, svg=svg,
        comments=comments, elsewhere=ELSEWHERE, not_ready_count=len(shown)
        if only_not_ready else None)


def _menu_svg(h: Hotline, tree: list[MenuNode]) -> str | None:
    """The menu picture, drawn once per process: the profile does not change while running."""
    cache: dict[str, str | None] = current_app.extensions.setdefault("console_svg", {})
    key = f"{h.profile.path}:{current_language()}"  # its words are the operator's
    if key not in cache:
        cache[key] = render_svg(menu_dot(tree), _("The call menu of %(hotline)s",
                                                     hotline=h.profile.name))
    return cache[key]


def _comments(db: Any) -> dict[tuple[str, str], list[Review]]:
    found: dict[tuple[str, str], list[Review]] = {}
    for review in db.scalars(select(Review).where(Review.verdict == "comment")
                             .order_by(Review.at.desc()).limit(500)):
        found.setdefault((review.lang, review.prompt_id), []).append(review)
        review.operator.name  # noqa: B018  (loaded while the session is open)
    return found


@bp.post("/review")
def review() -> BaseResponse:
    h = hotline()
    lang = (request.form.get("lang") or "")[:8]
    prompt_id = (request.form.get("prompt") or "")[:64]
    verdict = request.form.get("verdict") or ""
    comment = (request.form.get("comment") or "").strip()[:2000]
    back = _safe_next(request.form.get("back"))
    try:
        with session_scope() as db:
            record_review(db, h, operator().id, lang, prompt_id, verdict, comment,
                          request.form.get("hash") or "")
    except ValueError as exc:
        flash(str(exc), "error")
        return redirect(back)
    done = (_("%(prompt)s in %(lang)s: marked reviewed.") if verdict == "reviewed"
            else _("%(prompt)s in %(lang)s: comment saved."))
    flash(done % {"prompt": prompt_label(prompt_id), "lang": language_label(lang)})
    return redirect(back)


@bp.get("/reviews")
def reviews() -> str:
    """A reviewer's page for one language: what waits, what is reviewed, what is missing."""
    h = hotline()
    translated = [c for c in h.profile.languages if c != SOURCE_LANGUAGE]
    default = h.profile.default_language if h.profile.default_language in translated else (
        translated[0] if translated else SOURCE_LANGUAGE)
    lang = request.args.get("lang") or default
    if lang not in translated:
        lang = default
    with session_scope() as db:
        overview = review_overview(db, h, lang)
    return render_template("console/reviews.html", title=_("Review"), overview=overview,
                           lang=lang, languages=language_choices(h.profile),
                           directions={code: text_direction(code) for code in translated})


@bp.get("/reviews/<lang>.po")
def reviews_po(lang: str) -> Response:
    """The language's catalog with every current review applied (fuzzy flags cleared)."""
    h = hotline()
    if lang not in h.profile.languages or lang == SOURCE_LANGUAGE:
        abort(404)
    with session_scope() as db:
        data, _changed = catalog_with_reviews(db, lang)
    if data is None:
        abort(404)
    return Response(data, mimetype="text/x-gettext-translation", headers={
        "Content-Disposition": f'attachment; filename="{lang}-messages.po"'})


def _moment_arg(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).replace(tzinfo=hotline().profile.timezone)
    except ValueError:
        return None


@bp.route("/try", methods=["GET", "POST"])
def try_it() -> str | tuple[str, int]:
    h = hotline()
    saved = session.get("try") or {}
    state = TryState.from_dict(saved.get("state"))
    at_text = saved.get("at") or ""
    hear_drafts = saved.get("drafts") is True
    rest_refuses = saved.get("rest_refuses") is True
    result = None
    error = None
    status = 200
    if request.method == "POST":
        command = request.form.get("command") or "press"
        if command == "start":
            hear_drafts = request.form.get("drafts") == "on"
            rest_refuses = request.form.get("rest_refuses") == "on"
            at_text = (request.form.get("at") or "").strip()[:16]
            if at_text and _moment_arg(at_text) is None:
                error, status = _("That time is not a date and time (YYYY-MM-DDTHH:MM)."), 400
                at_text = ""
        if error is None:
            with session_scope() as db:  # Try it's "hear drafts": the drafts waiting now
                waiting = drafts(db, h) if hear_drafts else None
            token = use_drafts(waiting)
            try:
                result = run(current_app, state, command, (request.form.get("key") or "")[:1],
                             _moment_arg(at_text), rest_refuses)
            except ValueError as exc:
                error, status = str(exc), 400
            finally:
                stop_drafts(token)
        if result is not None:
            state = result.state
            session["try"] = {"state": state.as_dict(), "at": at_text, "drafts": hear_drafts,
                              "rest_refuses": rest_refuses}
    languages = {code: text_direction(code) for code in h.profile.languages}
    return render_template("console/try.html", title=_("Try it"), result=result, state=state,
                           error=error, keypad=KEYPAD, at=at_text, directions=languages,
                           hear_drafts=hear_drafts, rest_refuses=rest_refuses,
                           language_names=dict(
                               language_choices(h.profile)),
                           timezone=str(h.profile.timezone)), status


@bp.get("/script")
def script() -> str:
    h = hotline()
    lang = _language_arg("lang", h.profile.default_language)
    tree = menu_tree(h.profile)
    reviews = _reviews()
    rows = [(item, [prompt_view(h, lang, use, reviews) for use in item.prompts])
            for item in tree]
    texts = text_summary(prompt_view(h, lang, use, reviews)
                         for use in distinct_prompts(h.profile))
    return render_template("console/script.html", title=_("Script"), rows=rows, lang=lang,
                           texts=texts,
                           languages=language_choices(h.profile), profile=h.profile,
                           direction=text_direction(lang),
                           generated=hotline_time(datetime.now(h.profile.timezone)))

