"""The SMS language model, mapped from a file: the same answers as py3langid's own."""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

import pytest
from py3langid.langid import MODEL_FILE, LanguageIdentifier

from ivr.content.machine_cache import private_folder
from ivr.sms.language_model import cache_path, identifier, mapped_identifier, restricted
from ivr.sms.text import warm_beside_the_start, warm_language_model

pytestmark = pytest.mark.slow  # builds and maps the language model files

LANGUAGES = ("ar", "bg", "de", "en", "es", "fr", "lb", "pt", "ro", "ru", "sq", "sr", "uk", "zh")
TEXTS = ["Ich brauche Hilfe, mein Chef hat meinen Pass genommen",
         "Мне нужна помощь, у меня забрали паспорт",
         "Мені потрібна допомога, у мене забрали паспорт",
         "Preciso de ajuda, tiraram-me o passaporte",
         "Am nevoie de ajutor, mi-au luat pașaportul",
         "أحتاج إلى مساعدة، أخذوا جواز سفري",
         "我需要帮助，他们拿走了我的护照",
         "Kam nevojë për ndihmë, më morën pasaportën",
         "J'ai besoin d'aide, ils ont pris mon passeport",
         "help me please they took my passport", "ok", ""]


def test_the_mapped_model_answers_as_py3langid_does(tmp_path: Path) -> None:
    mapped = mapped_identifier(LANGUAGES, tmp_path)
    usual = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    usual.set_languages(list(LANGUAGES))
    for text in TEXTS:
        assert mapped.classify(text) == usual.classify(text), text
    assert mapped.classify(TEXTS[0])[0] == "de" and mapped.classify(TEXTS[2])[0] == "uk"


def test_the_cut_model_is_written_once_and_then_reused(tmp_path: Path) -> None:
    mapped_identifier(("en", "fr"), tmp_path)
    written = cache_path(("en", "fr"), tmp_path)
    before = written.stat().st_mtime_ns
    assert mapped_identifier(("en", "fr"), tmp_path).classify("bonjour, j'ai besoin d'aide")[0] \
        == "fr"
    assert written.stat().st_mtime_ns == before
    assert list(tmp_path.iterdir()) == [written]  # no partial file left behind
    assert cache_path(("en", "uk"), tmp_path) != written


def test_where_no_file_can_be_written_the_model_is_held_in_memory(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "folder"
    found = identifier(("de", "en"), missing)
    assert found.classify(TEXTS[0])[0] == "de"
    assert not missing.exists()


def test_a_folder_someone_else_could_write_to_is_not_used(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert private_folder() == tmp_path / f"ivr-{os.getuid()}"
    assert private_folder().stat().st_mode & 0o777 == 0o700
    private_folder().chmod(0o777)
    with pytest.raises(PermissionError):
        private_folder()
    assert identifier(("de", "en")).classify(TEXTS[0])[0] == "de"  # then held in memory


def test_warming_beside_several_starts_then_waiting_ends() -> None:
    """Each app starts a loading thread; gunicorn's master then waits for all of them."""
    for _ in range(3):
        warm_beside_the_start(LANGUAGES)
    waiting = threading.Thread(target=warm_language_model, args=(LANGUAGES,), daemon=True)
    waiting.start()
    waiting.join(60)
    assert not waiting.is_alive(), "waiting for the loading threads never ended"
    assert [t for t in threading.enumerate() if t.name == "sms-language-model"] == []


def test_some_of_the_languages_are_answered_from_the_whole_models_file(tmp_path: Path) -> None:
    """A text's script narrows the languages (Latin letters: not Russian); the detector then
    answers among those with the profile's model, and writes no model of its own for them."""
    whole = mapped_identifier(LANGUAGES, tmp_path)
    latin = ("de", "en", "es", "fr", "lb", "pt", "ro", "sq")
    usual = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    usual.set_languages(list(latin))
    some = restricted(whole, latin)
    assert sorted(some.nb_classes) == list(latin) and some.tk_nextmove is whole.tk_nextmove
    for text in TEXTS:
        language, confidence = some.classify(text)
        expected, expected_confidence = usual.classify(text)
        assert language == expected and abs(confidence - expected_confidence) < 1e-3, text
    assert list(tmp_path.iterdir()) == [cache_path(LANGUAGES, tmp_path)]


def test_a_text_narrowed_by_its_script_uses_the_profiles_model_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ivr.sms import text

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(text, "_identifiers", {})
    latin = ("de", "en", "es", "fr", "pt", "ro")
    german = "Mein Chef hat meinen Pass genommen und ich darf nicht gehen"
    assert text.detect_language(german, latin, model=LANGUAGES) == "de"
    assert text.detect_language(german, ("de", "en"), model=LANGUAGES) == "de"
    written = [path.name for path in private_folder().iterdir()]
    assert written == [cache_path(LANGUAGES).name]  # one model, the profile's
