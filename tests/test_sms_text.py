"""Text rules of the SMS channel, checked against GSM 03.38 and Twilio's segment sizes."""

from __future__ import annotations

import pytest

from ivr.sms.text import (
    KeywordTable,
    clean_body,
    count_segments,
    detect_language,
    gsm7_septets,
    gsm_friendly,
    normalize_keyword,
)

# 3GPP TS 23.038 (GSM 03.38) default alphabet: (character, code) for a sample of the table,
# chosen where it differs from ASCII or Latin-1.
BASIC_TABLE = [("@", 0x00), ("£", 0x01), ("$", 0x02), ("¥", 0x03), ("è", 0x04), ("é", 0x05),
               ("ù", 0x06), ("ì", 0x07), ("ò", 0x08), ("Ç", 0x09), ("\n", 0x0A), ("Ø", 0x0B),
               ("ø", 0x0C), ("\r", 0x0D), ("Å", 0x0E), ("å", 0x0F), ("Δ", 0x10), ("_", 0x11),
               ("Φ", 0x12), ("Γ", 0x13), ("Λ", 0x14), ("Ω", 0x15), ("Π", 0x16), ("Ψ", 0x17),
               ("Σ", 0x18), ("Θ", 0x19), ("Ξ", 0x1A), ("Æ", 0x1C), ("æ", 0x1D), ("ß", 0x1E),
               ("É", 0x1F), ("¤", 0x24), ("¡", 0x40), ("Ä", 0x5B), ("Ö", 0x5C), ("Ñ", 0x5D),
               ("Ü", 0x5E), ("§", 0x5F), ("¿", 0x60), ("ä", 0x7B), ("ö", 0x7C), ("ñ", 0x7D),
               ("ü", 0x7E), ("à", 0x7F)]
# The extension table: escape (0x1B) then a code; two septets each.
EXTENSION_TABLE = [("\f", 0x0A), ("^", 0x14), ("{", 0x28), ("}", 0x29), ("\\", 0x2F),
                   ("[", 0x3C), ("~", 0x3D), ("]", 0x3E), ("|", 0x40), ("€", 0x65)]
NOT_GSM = ["ç", "ë", "ă", "ș", "Ć", "я", "帮", "م", "–", "’", "😀", "\u202f"]


@pytest.mark.parametrize(("char", "code"), BASIC_TABLE)
def test_basic_table_characters_take_one_septet(char: str, code: int) -> None:
    assert char.encode("gsm03.38") == bytes([code])
    assert gsm7_septets(char) == 1


@pytest.mark.parametrize(("char", "code"), EXTENSION_TABLE)
def test_extension_table_characters_take_two_septets(char: str, code: int) -> None:
    assert char.encode("gsm03.38") == bytes([0x1B, code])
    assert gsm7_septets(char) == 2


@pytest.mark.parametrize("char", NOT_GSM)
def test_characters_outside_gsm_03_38(char: str) -> None:
    assert gsm7_septets(char) is None
    assert count_segments("a" + char).encoding == "UCS-2"


@pytest.mark.parametrize(("text", "encoding", "count"), [
    ("", "GSM-7", 1),
    ("a" * 160, "GSM-7", 1),
    ("a" * 161, "GSM-7", 2),
    ("a" * 306, "GSM-7", 2),
    ("a" * 307, "GSM-7", 3),
    ("€" * 80, "GSM-7", 1),  # 160 septets
    ("€" * 81, "GSM-7", 2),
    ("a" * 152 + "€" + "a" * 152, "GSM-7", 3),  # the escape pair is not split: 152 | 2+151 | 1
    ("a" * 151 + "€" + "a" * 153, "GSM-7", 2),
    ("я" * 70, "UCS-2", 1),
    ("я" * 71, "UCS-2", 2),
    ("я" * 134, "UCS-2", 2),
    ("я" * 135, "UCS-2", 3),
    ("😀" * 35, "UCS-2", 1),  # 70 UTF-16 units
    ("😀" * 36, "UCS-2", 2),
    ("a" * 66 + "😀" + "a" * 66, "UCS-2", 3),  # the surrogate pair is not split
])
def test_segments_follow_gsm_and_ucs2_sizes(text: str, encoding: str, count: int) -> None:
    segments = count_segments(text)
    assert (segments.encoding, segments.count) == (encoding, count)


def test_gsm_friendly_keeps_latin_replies_in_gsm7() -> None:
    hours = "lundi\u2013vendredi 9:00\u202fAM\u201312:00\u202fPM, l\u2019aide"
    assert count_segments(hours).encoding == "UCS-2"
    friendly = gsm_friendly(hours)
    assert count_segments(friendly).encoding == "GSM-7"
    assert friendly == "lundi-vendredi 9:00 AM-12:00 PM, l'aide"
    assert gsm_friendly("допомога ë ç") == "допомога ë ç"  # letters are never changed


@pytest.mark.parametrize(("typed", "word"), [
    ("  Help!! ", "HELP"), ("hélp", "HELP"), ("HËLLEF", "hellef"), ("Hellef?", "HËLLEF"),
    ("pomoc", "POMOĆ"), ("ПОМОЩЬ", "ПOMOЩЬ"), ("поліція", "ПОЛІЦІЯ"), ("POLIСЕ", "POLICE"),
    ("ПОЛИЦИЯ.", "полиция"), ("«AIDE»", "aide"), ("مُساعَدة", "مساعدة"), ("مســاعدة", "مساعدة"),
    ("帮助！", "帮助"), ("ajútor", "AJUTOR"), ("\u200bHELP\u200b", "HELP"), ("señales", "SENALES"),
])
def test_normalized_keywords_match(typed: str, word: str) -> None:
    assert normalize_keyword(typed) == normalize_keyword(word)


@pytest.mark.parametrize(("typed", "word"), [("helps", "HELP"), ("ПОМОЩ", "ПОМОЩЬ"),
                                             ("help me", "HELP"), ("", "HELP")])
def test_different_words_do_not_match(typed: str, word: str) -> None:
    assert normalize_keyword(typed) != normalize_keyword(word)


def test_a_word_of_several_languages_answers_in_the_senders_language() -> None:
    table = KeywordTable({"police": {"en": ["POLICE"], "fr": ["POLICE"]},
                          "stop": {"fr": ["ARRÊT"]}}, ["fr", "en", "de"])
    match = table.match("police")
    assert match is not None and match.languages == ("fr", "en")
    assert match.language("en", "de") == "en"
    assert match.language("de", "de") == "fr"
    assert match.language(None, "en") == "en"
    stop = table.match("arret")
    assert stop is not None and stop.kind == "stop" and not stop.twilio_word
    unsubscribe = table.match("Unsubscribe")  # Twilio's own words count in every profile
    assert unsubscribe is not None and unsubscribe.kind == "stop" and unsubscribe.twilio_word
    assert table.match("police now") is None


def test_clean_body_drops_control_characters() -> None:
    assert clean_body("a\x00b\x07c\u200e d\r\n e ") == "a b c d\n e"
    assert clean_body("\x00\x01 ") == ""


LANGUAGES = ["en", "fr", "de", "lb", "pt", "uk", "ru", "ro", "es", "zh", "ar", "bg", "sq", "sr"]


@pytest.mark.parametrize(("text", "expected"), [
    ("Bonjour, on m'a pris mon passeport et je dois travailler la nuit", "fr"),
    ("Ich muss jeden Tag arbeiten und bekomme kein Geld", "de"),
    ("Мені потрібна допомога, в мене забрали паспорт", "uk"),
    ("Мне нужна помощь, у меня забрали паспорт и деньги, я не знаю что делать", "ru"),
    ("Necesito ayuda, me quitaron el pasaporte", "es"),
    ("我需要帮助，他们拿走了我的护照", "zh"),
    ("أحتاج إلى مساعدة، أخذوا جواز سفري", "ar"),
    ("Kam nevojë për ndihmë, më morën pasaportën", "sq"),
    ("Am nevoie de ajutor, mi-au luat pașaportul", "ro"),
    ("Preciso de ajuda, tiraram o meu passaporte", "pt"),
])
def test_language_detection_with_the_shipped_model(text: str, expected: str) -> None:
    assert detect_language(text, LANGUAGES) == expected


@pytest.mark.parametrize("text", ["", "ok", "😀😀😀", "12345 678", "?!"])
def test_too_little_text_has_no_language(text: str) -> None:
    assert detect_language(text, LANGUAGES) is None
