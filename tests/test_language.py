import pytest

from cleaner.clean.language import identify
from cleaner.clean.lines import clean_document
from cleaner.config import CleanConfig
from cleaner.document import Document


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Dock workers at the port voted on Tuesday to end a twelve-day strike.", "en"),
        ("Die Hafenarbeiter beendeten am Dienstag ihren Streik nach zwölf Tagen.", "de"),
        ("Les dockers du port ont voté mardi la fin de la grève de douze jours.", "fr"),
        ("東京で日本とEUの首脳が新たな安全保障協定に署名した。", "ja"),
        ("وقع الاتحاد الأوروبي واليابان اتفاقية أمنية جديدة يوم الجمعة.", "ar"),
    ],
)
def test_languages_are_identified(text, code):
    assert identify(text) == code


@pytest.mark.parametrize("text", ["", "   ", "| 1 | 2 | 3 |", "12:30 14:45"])
def test_no_language_when_unsure(text):
    assert identify(text) is None


def test_english_phrase_rules_spare_a_page_in_another_language():
    lines = [
        "Comment",  # French for "how": a heading of the article
        "Le port de Hallvik a rouvert mardi après douze jours de grève des dockers.",
        "Home",
        "Les ferries vers les îles reprendront leurs horaires normaux dès jeudi matin.",
        "|",
    ]

    def cleaned(language):
        doc = Document("d", "d.txt", (0, 0), "text", body="\n".join(lines), language=language)
        return [p.rule for p in clean_document(doc, CleanConfig()).passages]

    assert cleaned("fr") == [None, None, None, None, "debris"]  # structural rules still apply
    assert cleaned("en") == ["comment_prompt", None, "navigation", None, "debris"]
    assert cleaned(None) == cleaned("en")
