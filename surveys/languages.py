"""The languages a question set may be written in, each with its script; reading direction follows from the script.

A question set naming a code that is not here is rejected, so a typo ("ud" for "ur") cannot slip through. Codes are
BCP 47 tags: a language ("pa") or a language with its script ("pa-Guru" Gurmukhi, "pa-Arab" Shahmukhi). Direction is
never typed per language: it is looked up from the script (ISO 15924 code), so a new language written in Arabic,
Hebrew or Thaana script reads right to left without anyone remembering to say so.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Scripts written right to left (ISO 15924 codes). Every other script reads left to right.
RTL_SCRIPTS = frozenset({
    "Arab",  # Arabic, Urdu, Persian, Pashto, Punjabi (Shahmukhi), Sorani Kurdish
    "Aran",  # Arabic, Nastaliq variant (often used for Urdu)
    "Hebr",  # Hebrew, Yiddish
    "Syrc",  # Syriac
    "Thaa",  # Thaana (Dhivehi)
    "Nkoo",  # N'Ko
    "Adlm",  # Adlam (Fulani)
    "Samr",  # Samaritan
    "Mand",  # Mandaic
    "Rohg",  # Hanifi Rohingya
})


def script_direction(script: str) -> str:
    """'rtl' for a right-to-left script (ISO 15924 code, any case), else 'ltr'."""
    return "rtl" if script[:1].upper() + script[1:].lower() in RTL_SCRIPTS else "ltr"


@dataclass(frozen=True)
class LanguageInfo:
    code: str
    english_name: str
    native_name: str
    script: str  # ISO 15924: "Latn", "Arab", "Guru", ...

    @property
    def direction(self) -> str:
        """'ltr' or 'rtl', derived from the script."""
        return script_direction(self.script)


_KNOWN = [
    LanguageInfo("en", "English", "English", "Latn"),
    LanguageInfo("cy", "Welsh", "Cymraeg", "Latn"),
    LanguageInfo("ur", "Urdu", "اردو", "Arab"),
    LanguageInfo("pa", "Punjabi", "ਪੰਜਾਬੀ", "Guru"),  # plain "pa" is Gurmukhi, as in CLDR
    LanguageInfo("pa-Guru", "Punjabi (Gurmukhi)", "ਪੰਜਾਬੀ", "Guru"),
    LanguageInfo("pa-Arab", "Punjabi (Shahmukhi)", "پنجابی", "Arab"),
    LanguageInfo("bn", "Bengali", "বাংলা", "Beng"),
    LanguageInfo("gu", "Gujarati", "ગુજરાતી", "Gujr"),
    LanguageInfo("ar", "Arabic", "العربية", "Arab"),
    LanguageInfo("fa", "Persian", "فارسی", "Arab"),
    LanguageInfo("ps", "Pashto", "پښتو", "Arab"),
    LanguageInfo("ku", "Kurdish", "Kurdî", "Latn"),
    LanguageInfo("he", "Hebrew", "עברית", "Hebr"),
    LanguageInfo("pl", "Polish", "Polski", "Latn"),
    LanguageInfo("ro", "Romanian", "Română", "Latn"),
    LanguageInfo("so", "Somali", "Soomaali", "Latn"),
    LanguageInfo("ti", "Tigrinya", "ትግርኛ", "Ethi"),
    LanguageInfo("zh", "Chinese", "中文", "Hans"),
    LanguageInfo("uk", "Ukrainian", "Українська", "Cyrl"),
    LanguageInfo("pt", "Portuguese", "Português", "Latn"),
]

LANGUAGES: dict[str, LanguageInfo] = {lang.code: lang for lang in _KNOWN}


def script(code: str) -> str:
    """The script of a language code: its script subtag ("pa-Arab" -> "Arab"), else the known language's script,
    else "Latn"."""
    parts = code.replace("_", "-").split("-")
    for part in parts[1:]:
        if len(part) == 4 and part.isalpha():
            return part[:1].upper() + part[1:].lower()
    info = LANGUAGES.get(code) or LANGUAGES.get(parts[0].lower())
    return info.script if info else "Latn"


def direction(code: str) -> str:
    """'rtl' or 'ltr' for a language code, from its script (unknown codes without a script read left to right)."""
    return script_direction(script(code))
