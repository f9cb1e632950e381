"""The operator's choice of the console's language (kept on their account)."""

from __future__ import annotations

from flask import flash, redirect, request
from werkzeug.wrappers import Response as BaseResponse

from ivr.console.accounts import set_language
from ivr.console.i18n import console_languages, gettext
from ivr.console.store import session_scope
from ivr.console.views import _safe_next, bp, operator


@bp.post("/language")
def choose_language() -> BaseResponse:
    """Store the language chosen in the header's form; empty means the staff language."""
    code = request.form.get("language") or ""
    back = _safe_next(request.form.get("back"))
    if code and code not in console_languages():
        flash(gettext("That language is not available in the console."), "error")
        return redirect(back)
    with session_scope() as db:
        set_language(db, operator().id, code or None)
    return redirect(back)
