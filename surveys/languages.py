"""The languages a question set may be written in, with their script direction.

A question set naming a code that is not here is rejected, so a typo ("ud" for "ur") cannot slip through.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LanguageInfo:
    code: str
    english_name: str
    native_name: str
    direction: str  # "ltr" or "rtl"


_KNOWN = [
    LanguageInfo("en", "English", "English", "ltr"),
    LanguageInfo("cy", "Welsh", "Cymraeg", "ltr"),
    LanguageInfo("ur", "Urdu", "اردو", "rtl"),
    LanguageInfo("pa", "Punjabi", "ਪੰਜਾਬੀ", "ltr"),
    LanguageInfo("bn", "Bengali", "বাংলা", "ltr"),
    LanguageInfo("gu", "Gujarati", "ગુજરાતી", "ltr"),
    LanguageInfo("ar", "Arabic", "العربية", "rtl"),
    LanguageInfo("fa", "Persian", "فارسی", "rtl"),
    LanguageInfo("ps", "Pashto", "پښتو", "rtl"),
    LanguageInfo("ku", "Kurdish", "Kurdî", "ltr"),
    LanguageInfo("he", "Hebrew", "עברית", "rtl"),
    LanguageInfo("pl", "Polish", "Polski", "ltr"),
    LanguageInfo("ro", "Romanian", "Română", "ltr"),
    LanguageInfo("so", "Somali", "Soomaali", "ltr"),
    LanguageInfo("ti", "Tigrinya", "ትግርኛ", "ltr"),
    LanguageInfo("zh", "Chinese", "中文", "ltr"),
    LanguageInfo("uk", "Ukrainian", "Українська", "ltr"),
    LanguageInfo("pt", "Portuguese", "Português", "ltr"),
]

LANGUAGES: dict[str, LanguageInfo] = {lang.code: lang for lang in _KNOWN}


def direction(code: str) -> str:
    """'rtl' or 'ltr' for a known language code (unknown codes read left to right)."""
    info = LANGUAGES.get(code)
    return info.direction if info else "ltr"
