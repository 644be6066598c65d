import json
from functools import cache

import pytest

from benchmarks.quality.generate import build_corpus
from benchmarks.realpages.evaluate import DEV_SET
from cleaner.clean import language
from cleaner.clean.language import _SAMPLE, _identifier, identify, identify_all
from cleaner.clean.lines import clean_document
from cleaner.config import LANGUAGE_CODES, CleanConfig
from cleaner.document import Document
from tests.conftest import EXAMPLES


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


# Words of seven scripts and numbers run together: the model answers "zxx", no language.
MIXED_SCRIPTS = " ".join(
    f"{w}{(i * 7919) % 1000000}"
    for i, w in enumerate(["東京", "эпсилон", "مرحبا", "ζήτα", "שלום", "gamma", "beta", "🚀"] * 15)
)


@pytest.mark.parametrize("text", ["", "   ", "| 1 | 2 | 3 |", "12:30 14:45", MIXED_SCRIPTS])
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


# -- identify_all: py3langid's own answer, many texts at once ---------------------------------


@cache
def _py3langid():
    return _identifier()


def _reference(text: str) -> str | None:
    """py3langid's `classify`, one text at a time, as `identify` used to call it."""
    sample = text[:_SAMPLE]
    if not sample.strip():
        return None
    code, _ = _py3langid().classify(sample)
    return None if code in ("und", "zxx") else code  # zxx: no linguistic content


def _real_texts() -> list[str]:
    texts = []
    for path in sorted((DEV_SET / "ground-truth").glob("*.json")):
        truth = json.loads(path.read_text(encoding="utf-8")).get("ground_truth") or {}
        texts += [truth.get("main_content") or "", truth.get("title") or ""]
        texts += (truth.get("main_content") or "").split("\n")[:20]  # lines, as short as a title
    return texts


EDGES = [
    "",
    "   \n\t",
    "BREAKING: DOCK WORKERS END TWELVE-DAY STRIKE AT THE PORT",  # upper case: lowered first
    "a",
    "🙂🙂🙂",
    "12:30 14:45 | 1 | 2 |",
    "Caf\u0065\u0301 au lait",  # decomposed: NFC first
    "lone \ud800 surrogate",
    "Die Hafenarbeiter beendeten am Dienstag ihren Streik. " * 80,  # past the sample
    "東京で日本とEUの首脳が新たな安全保障協定に署名した。" * 5,
    "Москва и Токио подписали новое соглашение о безопасности в пятницу.",
]


def test_identify_all_answers_as_py3langid_does_on_our_corpora():
    records, _ = build_corpus(300, seed=11)
    synthetic = ["\n".join(r.lines) for r in records] + [line for r in records[:60] for line in r.lines]
    pages = [
        p.read_text(encoding="utf-8", errors="replace") for p in sorted((EXAMPLES / "pages").rglob("*.*"))
    ]
    texts = synthetic + pages + EDGES
    assert identify_all(texts) == [_reference(t) for t in texts]


@pytest.mark.skipif(not DEV_SET.is_dir(), reason=f"the real-page set is not at {DEV_SET}")
def test_identify_all_answers_as_py3langid_does_on_real_pages():
    texts = _real_texts()
    found = identify_all(texts)
    assert len({code for code in found if code}) >= 3  # more than one language
    assert found == [_reference(t) for t in texts]


def test_identify_all_is_the_same_whatever_the_order_and_company():
    texts = EDGES + ["The ferry resumed its crossing on Thursday morning after the storm."] * 3
    alone = [identify(t) for t in texts]
    assert identify_all(texts) == alone
    assert identify_all(texts[::-1]) == alone[::-1]


def test_the_codes_a_setting_may_name_are_those_the_identifier_answers():
    model = language._model()
    aliased = {j for _, j in model.aliases}  # a second column of one label: never answered
    answered = {c for k, c in enumerate(model.classes) if k not in aliased}
    assert answered == LANGUAGE_CODES | {None}  # None: the model's "zxx", no language
