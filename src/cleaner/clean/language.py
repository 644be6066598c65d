"""Which language a document is written in, as an ISO 639-1 code.

py3langid (a numpy port of langid.py, BSD): its model of 97 languages ships inside the
package, so nothing is downloaded, and identifying a page takes under a millisecond. A page is
identified on its first `_SAMPLE` characters; a guess less likely than `_MIN_CONFIDENCE` (a
table of numbers, a list of names) is no language, `None`.

The language also tells the cleaner whether its English phrase rules apply to a page
(`cleaner.clean.lines`).
"""

from __future__ import annotations

from functools import cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier

_SAMPLE = 2000
_MIN_CONFIDENCE = 0.5


def warm_up() -> None:
    """Load the model in this process now (0.3 s), so that a worker does not in its first batch."""
    _identifier()


@cache
def _identifier() -> LanguageIdentifier:
    """The model, loaded once per process (0.3 s)."""
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True, min_confidence=_MIN_CONFIDENCE)


def identify(text: str) -> str | None:
    """The ISO 639-1 code of the language `text` is written in, or None when unsure."""
    sample = text[:_SAMPLE]
    if not sample.strip():
        return None
    code, _ = _identifier().classify(sample)
    return None if code == "und" else code
