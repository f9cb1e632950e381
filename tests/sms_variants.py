"""Real-world ways senders write to the Luxembourg hotline, and what each should get.

(text, kind, language): kind is the keyword the text should be taken as (None: free text,
relayed to a person); language the reply's language (None: unclear, so the short
acknowledgement in the profile's default and English). Typos, missing diacritics,
transliterations from a Latin keyboard, extra words and emoji, across the 14 languages.
The sender is on a Luxembourg mobile, which suggests no language.
"""

from __future__ import annotations

VARIANTS: list[tuple[str, str | None, str | None]] = [
    # en
    ("HELP", "help", "en"), ("help!", "help", "en"), ("🆘 HELP", "help", "en"),
    ("Help me", None, "en"), ("help pls", None, "en"), ("signs?", "signs", "en"),
    ("Hepl", "help", "en"),
    # fr
    ("aide", "help", "fr"), ("AIDE 🙏🙏", "help", "fr"), ("aide svp", None, "fr"),
    ("Signes", "signs", "fr"), ("langues", "languages", "fr"), ("arret", "stop", "fr"),
    # de
    ("Hilfe", "help", "de"), ("HILFE!!!", "help", "de"), ("Hilfe bitte", None, "de"),
    ("hlife", "help", "de"), ("Zeichen", "signs", "de"), ("Sprachen", "languages", "de"),
    # lb
    ("Hëllef", "help", "lb"), ("HELLEF", "help", "lb"), ("hellef w.e.g.", None, "lb"),
    ("Zeechen", "signs", "lb"),
    # pt
    ("ajuda", "help", "pt"), ("AJUDA!", "help", "pt"), ("preciso de ajuda", None, "pt"),
    ("Sinais", "signs", "pt"), ("linguas", "languages", "pt"),
    # uk
    ("ДОПОМОГА", "help", "uk"), ("допомога", "help", "uk"), ("DOPOMOHA", "help", "uk"),
    ("dopomoha", "help", "uk"), ("DOPOMOGA", "help", "uk"),
    ("Допоможіть мені", None, "uk"), ("ознаки", "signs", "uk"), ("OZNAKY", "signs", "uk"),
    ("МОВИ", "languages", "uk"), ("movy", "languages", "uk"),
    # ru
    ("ПОМОЩЬ", "help", "ru"), ("помощь", "help", "ru"), ("POMOSHCH", "help", "ru"),
    ("POMOSH", "help", "ru"), ("pomosch", "help", "ru"), ("pomoshch'", "help", "ru"),
    ("ПОМОГИТЕ", None, "ru"), ("помогите пожалуйста", None, "ru"),
    ("ПРИЗНАКИ", "signs", "ru"), ("priznaki", "signs", "ru"), ("YAZYKI", "languages", "ru"),
    # ro
    ("AJUTOR", "help", "ro"), ("ajutor!", "help", "ro"), ("ajutoor", "help", "ro"),
    ("am nevoie de ajutor", None, "ro"), ("semne", "signs", "ro"),
    ("politia", "police", "ro"), ("limbi", "languages", "ro"),
    # es
    ("AYUDA", "help", "es"), ("ayuda por favor", None, "es"), ("ayudaa", "help", "es"),
    ("señales", "signs", "es"), ("senales", "signs", "es"),
    # zh
    ("帮助", "help", "zh"), ("幫助", "help", "zh"), ("帮助！", "help", "zh"),
    ("请帮助我", None, "zh"), ("迹象", "signs", "zh"), ("跡象", "signs", "zh"),
    ("警察", "police", "zh"), ("救命", None, "zh"),
    # ar
    ("مساعدة", "help", "ar"), ("مساعده", "help", "ar"), ("مُساعدة", "help", "ar"),
    ("مساعدة!", "help", "ar"), ("ساعدني من فضلك", None, "ar"), ("علامات", "signs", "ar"),
    ("شرطه", "police", "ar"), ("لغات", "languages", "ar"),
    # bg
    ("ПОМОЩ", "help", "bg"), ("pomosht", "help", "bg"), ("POMOSHT", "help", "bg"),
    ("Помогнете ми", None, "bg"), ("признаци", "signs", "bg"), ("priznatsi", "signs", "bg"),
    # sq
    ("NDIHMË", "help", "sq"), ("ndihme", "help", "sq"), ("NDIHME ju lutem", None, "sq"),
    ("shenja", "signs", "sq"), ("gjuhet", "languages", "sq"),
    # sr
    ("POMOĆ", "help", "sr"), ("pomoc", "help", "sr"), ("ПОМОЋ", "help", "sr"),
    ("pomoć molim vas", None, "sr"), ("znaci", "signs", "sr"), ("policija", "police", "sr"),
    # nothing to tell the language by
    ("ok", None, None), ("??", None, None),
]
