"""`ivr i18n extract|init|update|compile|status`: the catalogs, through pybabel.

Two gettext domains: `messages` (what callers hear, reviewed by two people) and `console`
(the staff console's own words, ivr.console.i18n), each with its template and catalogs.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import click
from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po, write_po

from ivr.content.i18n import CLDR_LOCALES, LOCALES_DIR
from ivr.content.profile import PROFILES_DIR, ProfileError
from ivr.content.profile_loader import load_profile
from ivr.content.texts import placeholders

PROJECT_DIR = LOCALES_DIR.parent
MAPPING_FILE = PROJECT_DIR / "babel.cfg"
TEMPLATE = LOCALES_DIR / "messages.pot"
DOMAIN = "messages"
CONSOLE = "console"
DOMAINS = (DOMAIN, CONSOLE)
MAPPING_FILES = {DOMAIN: MAPPING_FILE, CONSOLE: PROJECT_DIR / "babel-console.cfg"}
# ivr/content/texts.py marks built-in prompts as prompt(id, text): the id becomes the msgctxt.
KEYWORD = "prompt:1c,2"
# The console's Python marks its words with _() / gettext() (Babel's defaults) and N_().
KEYWORDS = {DOMAIN: [KEYWORD], CONSOLE: ["N_"]}


def template_of(domain: str = DOMAIN, locales_dir: Path = LOCALES_DIR) -> Path:
    return locales_dir / f"{domain}.pot"


def po_path(code: str, locales_dir: Path = LOCALES_DIR, domain: str = DOMAIN) -> Path:
    return locales_dir / code / "LC_MESSAGES" / f"{domain}.po"


def pybabel(*args: str) -> list[str]:
    """The argument list that runs one pybabel command with this interpreter."""
    return [sys.executable, "-m", "babel.messages.frontend", *args]


def extract_command(output: Path | None = None, domain: str = DOMAIN) -> list[str]:
    keywords = [arg for keyword in KEYWORDS[domain] for arg in ("-k", keyword)]
    return pybabel("extract", "-F", str(MAPPING_FILES[domain]), *keywords,
                   "-c", "TRANSLATORS:", "--project", "Hotline IVR",
                   "--copyright-holder", "Hotline IVR contributors", "--sort-by-file",
                   "-o", str(output or template_of(domain)), ".")


def init_command(code: str, domain: str = DOMAIN) -> list[str]:
    return pybabel("init", "-D", domain, "-i", str(template_of(domain)),
                   "-o", str(po_path(code, domain=domain)), "-l", CLDR_LOCALES.get(code, code))


def update_command(code: str, domain: str = DOMAIN) -> list[str]:
    # No fuzzy matching: the app speaks fuzzy entries, so a changed source text must not
    # inherit an old sentence that says something else. It becomes missing (English is
    # spoken) until someone translates it; the old text stays below as an obsolete entry.
    return pybabel("update", "-D", domain, "-i", str(template_of(domain)),
                   "-o", str(po_path(code, domain=domain)),
                   "-l", CLDR_LOCALES.get(code, code), "--no-fuzzy-matching",
                   "--ignore-pot-creation-date")


def cldr_plural_forms(code: str) -> str:
    """The `Plural-Forms` header that the installed Babel's CLDR data gives a language."""
    return get_plural(Locale.parse(CLDR_LOCALES.get(code, code))).plural_forms


def follow_cldr_plural_forms(path: Path, code: str) -> bool:
    """Rewrite a catalog's `Plural-Forms` to the installed Babel's; True if it changed.

    `pybabel update` keeps the header a catalog already has, so a Babel release with new
    CLDR rules would otherwise never reach the catalogs.
    """
    catalog = read_catalog(path, code)
    wanted = cldr_plural_forms(code)
    if catalog.plural_forms == wanted:
        return False
    catalog.mime_headers = [(name, wanted if name == "Plural-Forms" else value)
                            for name, value in catalog.mime_headers]
    with path.open("wb") as output:
        write_po(output, catalog, width=76)
    return True


def compile_command(code: str, output: Path | None = None, domain: str = DOMAIN) -> list[str]:
    # --use-fuzzy: unreviewed machine translations are still better than silence.
    path = po_path(code, domain=domain)
    return pybabel("compile", "-D", domain, "--use-fuzzy", "--statistics", "-i", str(path),
                   "-o", str(output or path.with_suffix(".mo")),
                   "-l", CLDR_LOCALES.get(code, code))


def catalog_languages(locales_dir: Path = LOCALES_DIR, domain: str = DOMAIN) -> list[str]:
    """Languages that have a catalog of the domain under locales/."""
    found = locales_dir.glob(f"*/LC_MESSAGES/{domain}.po")
    return sorted(path.parent.parent.name for path in found)


def profile_languages(paths: Iterable[Path]) -> list[str]:
    """Languages the given hotline profiles offer callers."""
    codes: set[str] = set()
    for path in paths:
        try:
            codes.update(load_profile(path).languages)
        except ProfileError as exc:
            raise click.ClickException(str(exc)) from exc
    return sorted(codes)


def shipped_profiles() -> list[Path]:
    return sorted(PROFILES_DIR.glob("*.toml"))


def read_catalog(path: Path, code: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=CLDR_LOCALES.get(code, code) if code else None)


@dataclass(frozen=True, slots=True)
class CatalogStatus:
    """How far one language's catalog is, against the template."""

    language: str
    translated: int  # reviewed: no fuzzy flag
    fuzzy: int  # machine-made or not yet checked by a native speaker; still used
    missing: int  # no translation: the caller hears English
    broken: tuple[str, ...]  # prompt ids whose placeholders differ from the source

    @property
    def complete(self) -> bool:
        return self.missing == 0 and not self.broken


def catalog_status(code: str, template: Catalog, locales_dir: Path = LOCALES_DIR,
                   domain: str = DOMAIN) -> CatalogStatus:
    """Count translated, fuzzy and missing messages of one language against the template."""
    wanted = [message for message in template if message.id]
    path = po_path(code, locales_dir, domain)
    if not path.exists():
        return CatalogStatus(code, 0, 0, len(wanted), ())
    catalog = read_catalog(path, code)
    translated = fuzzy = missing = 0
    broken: list[str] = []
    for message in wanted:
        entry = catalog.get(message.id, context=message.context)
        text = str(entry.string) if entry is not None and entry.string else ""
        if not text:
            missing += 1
            continue
        if entry is not None and entry.fuzzy:
            fuzzy += 1
        else:
            translated += 1
        if _names(entry.string if entry is not None else text) != _names(message.id):
            broken.append(str(message.context or message.id))
    return CatalogStatus(code, translated, fuzzy, missing, tuple(broken))


def _names(value: object) -> set[str]:
    """The placeholder names a message uses, in any of its plural forms (a translation may
    say one twice or once, as the console's checks allow: names, not counts)."""
    forms = value if isinstance(value, tuple | list) else (value,)
    return {name for form in forms for name in placeholders(str(form))}


def _run(command: Sequence[str]) -> None:
    click.echo("$ pybabel " + " ".join(command[3:]), err=True)
    result = subprocess.run(list(command), cwd=PROJECT_DIR, check=False)
    if result.returncode != 0:
        raise click.ClickException(f"pybabel {command[3]} failed (exit {result.returncode})")


def _chosen(languages: tuple[str, ...], domain: str = DOMAIN) -> list[str]:
    found = catalog_languages(domain=domain)
    for code in languages:
        if code not in found:
            raise click.BadParameter(f"no {domain} catalog for {code!r} (try: ivr i18n init "
                                     f"--domain {domain} {code})", param_hint="--lang")
    return list(languages) or found


def _domains(chosen: str) -> tuple[str, ...]:
    return DOMAINS if chosen == "all" else (chosen,)


DOMAIN_OPTION = click.option(
    "--domain", type=click.Choice([*DOMAINS, "all"]), default="all", show_default=True,
    help="messages: what callers hear; console: the staff console's words.")


@click.group("i18n")
def i18n() -> None:
    """Catalogs of prompts (messages) and of the console (console): extract, init, update,
    compile, status."""


@i18n.command("extract")
@DOMAIN_OPTION
def extract(domain: str) -> None:
    """Write locales/messages.pot (texts.py, every profile's [prompts]) and
    locales/console.pot (the console's code and templates, prompt and menu names)."""
    for name in _domains(domain):
        _run(extract_command(domain=name))


@i18n.command("init")
@click.option("--domain", type=click.Choice(DOMAINS), default=DOMAIN, show_default=True,
              help="messages: what callers hear; console: the staff console's words.")
@click.argument("language")
def init(domain: str, language: str) -> None:
    """Start the catalog of a new language (its code as in the profile, e.g. tr)."""
    path = po_path(language, domain=domain)
    if path.exists():
        raise click.ClickException(f"{path} exists already: use update")
    _run(init_command(language, domain))


@i18n.command("update")
@click.option("--lang", "languages", multiple=True, help="Only this language (repeatable).")
@DOMAIN_OPTION
def update(languages: tuple[str, ...], domain: str) -> None:
    """Merge each template (locales/*.pot) into each language's catalog."""
    for name in _domains(domain):
        for code in _chosen(languages, name):
            _run(update_command(code, name))
            if follow_cldr_plural_forms(po_path(code, domain=name), code):
                click.echo(f"{code}: Plural-Forms now {cldr_plural_forms(code)}", err=True)


@i18n.command("compile")
@click.option("--lang", "languages", multiple=True, help="Only this language (repeatable).")
@DOMAIN_OPTION
def compile_(languages: tuple[str, ...], domain: str) -> None:
    """Build the .mo files (fuzzy entries included); the app itself reads the .po files."""
    for name in _domains(domain):
        for code in _chosen(languages, name):
            _run(compile_command(code, domain=name))


@i18n.command("status")
@click.option("--lang", "languages", multiple=True, help="Only this language (repeatable).")
@click.option("--locales-dir", type=click.Path(file_okay=False, path_type=Path),
              default=LOCALES_DIR, show_default=True,
              help="Catalogs to check, e.g. a translator's copy.")
@click.option("--domain", type=click.Choice(DOMAINS), default=DOMAIN, show_default=True,
              help="messages: what callers hear; console: the staff console's words.")
def status(languages: tuple[str, ...], locales_dir: Path, domain: str) -> None:
    """Per language: translated (reviewed), fuzzy (unreviewed), missing; exit 1 if any missing.

    For the prompts (messages), a language offered by a shipped profile or by
    HOTLINE_PROFILE that has no catalog counts as all missing; the console counts the
    languages it has a catalog for.
    """
    import os

    template_path = template_of(domain, locales_dir)
    if not template_path.exists():
        raise click.ClickException(f"{template_path} is missing: run `ivr i18n extract`")
    template = read_catalog(template_path)
    profiles = shipped_profiles()
    if os.environ.get("HOTLINE_PROFILE"):
        profiles.append(Path(os.environ["HOTLINE_PROFILE"]))
    offered = set(profile_languages(profiles)) if domain == DOMAIN else set()
    codes = list(languages) or sorted(set(catalog_languages(locales_dir, domain)) | offered)
    total = sum(1 for message in template if message.id)
    click.echo(f"{'language':<10}{'translated':>11}{'fuzzy':>7}{'missing':>9}  ({total} messages)")
    incomplete = False
    for code in codes:
        result = catalog_status(code, template, locales_dir, domain)
        note = "" if po_path(code, locales_dir, domain).exists() else "  no catalog"
        if result.broken:
            note += "  placeholders differ: " + ", ".join(result.broken)
        click.echo(f"{code:<10}{result.translated:>11}{result.fuzzy:>7}{result.missing:>9}{note}")
        incomplete = incomplete or not result.complete
    if incomplete:
        raise SystemExit(1)
