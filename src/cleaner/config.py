"""Frozen, validated configuration.

Every tunable lives here, grouped by stage, with the reason for its default next to it. A bad
setting fails at construction with a message that names the key and says how to fix it; the
same settings are written into each run's manifest so a corpus records how it was made.

A configuration file is TOML with one table per stage, any key may be left out:

    [clean]
    learned_min_docs = 4

    [dedup]
    threshold = 0.6
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from cleaner.errors import ConfigError

# The most any count setting (documents, words, lines, files, rows) may be: far beyond any
# real use, and within what numpy's integers, JSON and Prefect's parameters hold exactly.
COUNT_MAX = 1_000_000_000
# The codes `cleaner.clean.language` can answer (py3langid's model; tests/test_language.py
# holds the two equal), kept here so a setting naming a language is checked without
# loading the 100 MB model: "english" for "en" would match no document, silently.
LANGUAGE_CODES = frozenset(
    "ace af am an ar ary arz as az ba bcl be bg bn br bs ca crh cs cy da de dz el en eo es et eu "
    "ext fa fi fo fr fuv fy ga gcf gcr gd gl gom grc gu gug guw ha hbo he hi hr ht hu hy id ig is it "
    "ja jv ka kab kik kk km kn ko ku ky la lb lg lij ln lo lt ltg lv mg mk ml mn mr ms mt my ne nl "
    "nn no nso oc om or pa pcm pl ps pt qu ro ru rw sa sdh se si sk sl sn so sq sr st sv sw ta te "
    "tg th tk tl tr tt ug uk ur uz uzs vec vi vo wa wuu xh yo yue zh zu".split()
)


@dataclass(frozen=True)
class ReadConfig:
    """Reading input files."""

    # A record (a page, a text file, one JSONL line, decompressed) larger than this is
    # rejected unread: news pages are 50 KB to 2 MB of HTML, and one of 50 MB is a data dump
    # or a crawler trap that would cost minutes and gigabytes to parse. Also caps what a
    # compressed input may expand to, so a gzip bomb is a reject, not an out-of-memory kill.
    max_record_bytes: int = 8_000_000
    # Columns of a Parquet input (`cleaner run --text-column ...`), named as in a JSONL
    # record by default. A row needs a text or an HTML column; the others are optional.
    text_column: str = "text"
    html_column: str = "html"
    url_column: str = "url"
    id_column: str = "id"
    title_column: str = "title"
    published_column: str = "published"

    def __post_init__(self) -> None:
        _check_types(self, "read")
        # At most 1 GB: a read asks for the whole limit at once, and beyond ~100 GB that
        # allocation fails (MemoryError) on every page.
        _check_range("read.max_record_bytes", self.max_record_bytes, low=1, high=1_000_000_000)
        for name in ("text", "html", "url", "id", "title", "published"):
            if not getattr(self, f"{name}_column"):
                raise ConfigError(f"read.{name}_column must name a column, got an empty string")
        # HTML named as the text column too would be stored unextracted, as text. (Other
        # fields may share a column: a url that is also the record's id.)
        if self.text_column == self.html_column:
            raise ConfigError(
                f"read.text_column and read.html_column both name the column {self.text_column!r}: "
                "a column holds text or HTML; name the other field a column the files lack "
                "(--text-column none)"
            )


@dataclass(frozen=True)
class ExtractConfig:
    """HTML extraction with trafilatura."""

    # What trafilatura favours when it decides what is the article: "precision" drops doubtful
    # blocks, "recall" keeps them, "balanced" is its default.
    focus: Literal["precision", "balanced", "recall"] = "recall"
    # A page whose text has fewer words than `fallback_below_words`, and fewer than
    # `fallback_below_share` of the words in the page's <p> elements (the extractor took the
    # wrong block), is extracted again with `fallback_focus` ("none": never), and the longer
    # text is kept; `documents.extraction` records which focus made the text. A page without
    # <p> elements is judged on its word count alone. On the 711 real pages of
    # benchmarks/realpages the share cuts second extractions from 205 pages to 40 at the same
    # word F1 (any share from 0.4 to 0.8 does; docs/quality.md).
    fallback_focus: Literal["precision", "balanced", "recall", "none"] = "balanced"
    fallback_below_words: int = 1000
    fallback_below_share: float = 0.6
    # Tables in news pages are usually content (results, figures), not layout.
    include_tables: bool = True
    # Wall-clock limit on extracting one page, in seconds: a pathological page (measured:
    # 4 MB of repeated blocks takes 8.5 s, where a news page takes 10-50 ms) becomes an
    # `extraction_timeout` reject instead of holding its batch.
    timeout_seconds: float = 30.0

    def __post_init__(self) -> None:
        _check_types(self, "extract")
        # At most a day: the time-limit watchdog cannot wait past ~292 years, and dies trying.
        _check_range("extract.timeout_seconds", self.timeout_seconds, low=0, high=86_400, open_low=True)
        _check_range("extract.fallback_below_words", self.fallback_below_words, low=0, high=COUNT_MAX)
        _check_range("extract.fallback_below_share", self.fallback_below_share, low=0, high=1)
        if self.fallback_focus == self.focus:
            raise ConfigError(
                f"extract.fallback_focus: {self.fallback_focus!r} is extract.focus too, and extracting a page "
                'again with the same settings finds the same text: name another focus, or "none"'
            )


@dataclass(frozen=True)
class CleanConfig:
    """Line-level boilerplate removal."""

    # A line seen on this many different articles of one site in a run is that site's chrome.
    # Three: two articles can share a line by chance (a shared quote, a correction notice);
    # chrome shows on every page, so a small site with three pages is already caught.
    learned_min_docs: int = 3
    # Learned boilerplate only considers lines up to this many words: chrome is short, and
    # long paragraphs that recur across articles are content for dedup to judge.
    learned_max_words: int = 40
    # Two documents of one site that share at least this share of the smaller one's
    # article-length lines (8+ words) are copies of one article, and count once toward
    # learned_min_docs: a story republished with an update is not chrome.
    learned_same_article_share: float = 0.5
    # A line of symbols only ("|", "»") is scraping debris; so is a lone lower-case fragment
    # of fewer letters than this ("ss", "f": what an icon font leaves) next to a line a rule
    # dropped. Capitals and digits are content ("AI", "US", "C#", "$29.99", "(415) 861-5449"):
    # on the 711 real pages of benchmarks/realpages, counting every line with under three
    # letters as debris removed 457 lines of article text.
    debris_min_letters: int = 3
    # The headline of a plain-text page is inferred only from a heading-like line of at least
    # this many words that repeats in the page: shorter repeats are section labels.
    title_min_words: int = 3
    # Headings are short: a line longer than this is never taken for a title or teaser.
    title_max_words: int = 30
    # The masthead (site name, tagline) is looked for only above a headline found in the
    # first this-many lines.
    masthead_max_lines: int = 6
    # Rules to switch off by name, e.g. ["byline"]; names are checked against the rule list.
    disabled_rules: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_types(self, "clean")
        _check_range("clean.learned_min_docs", self.learned_min_docs, low=2, high=COUNT_MAX)
        _check_range("clean.learned_max_words", self.learned_max_words, low=1, high=COUNT_MAX)
        _check_range("clean.learned_same_article_share", self.learned_same_article_share, 0.0, 1.0)
        _check_range("clean.debris_min_letters", self.debris_min_letters, low=0, high=COUNT_MAX)
        _check_range("clean.title_min_words", self.title_min_words, low=1, high=COUNT_MAX)
        _check_range("clean.title_max_words", self.title_max_words, low=self.title_min_words, high=COUNT_MAX)
        _check_range("clean.masthead_max_lines", self.masthead_max_lines, low=0, high=COUNT_MAX)
        from cleaner.clean.rules import RULE_NAMES  # late: rules imports nothing from here

        unknown = sorted(set(self.disabled_rules) - set(RULE_NAMES))
        if unknown:
            raise ConfigError(
                f"clean.disabled_rules: unknown rule(s) {unknown}; known rules are {sorted(RULE_NAMES)}"
            )


@dataclass(frozen=True)
class DedupConfig:
    """Passage and document deduplication (MinHash + LSH, verified)."""

    # Word 3-grams: news paragraphs are 20 to 80 words, and a 3-gram keeps a light edit (one
    # substituted word) from erasing more than three shingles, where 5-grams lose five.
    shingle: Literal["word", "char"] = "word"
    shingle_size: int = 3
    # 128 permutations: standard error of the Jaccard estimate ~ sqrt(J(1-J)/128) <= 0.045.
    num_perm: int = 128
    # Fixed seed: signatures, and so every decision, are reproducible run to run.
    seed: int = 1
    # How a shingle becomes the 32-bit value MinHash permutes (cleaner.dedup.signatures.shingle_hashfunc):
    # each word hashed, a word shingle's word hashes folded FNV-style, then MurmurHash3's
    # fmix32. "fmix64-fold-fmix32" mixes a word's bytes 8 at a time with MurmurHash3's fmix64,
    # in bulk with numpy: signatures of 60-word passages at ~148,000 a second on one core;
    # "blake2b-fold-fmix32" hashes each distinct word with 4-byte BLAKE2b, a Python call per
    # word (~43,000 a second; docs/benchmarks.md). Both estimate Jaccard equally well (mean
    # error 0.0308 vs 0.0309 over 4,000 edited pairs). Stored with the signatures' parameters:
    # signatures made with one cannot be compared with the other's.
    shingle_hash: Literal["fmix64-fold-fmix32", "blake2b-fold-fmix32"] = "fmix64-fold-fmix32"
    # A candidate pair counts as a near-duplicate when its Jaccard reaches this: estimated,
    # or computed exactly on the shingles when the estimate is too close to call.
    # 0.5 on word 3-grams is a paragraph with about one word in eight changed.
    threshold: float = 0.5
    # 42 bands of 3 rows: a pair at J=0.5 becomes an LSH candidate with probability 0.996,
    # at J=0.3 with 0.68 (those are then rejected by verification), using 126 of 128 hashes.
    bands: int = 42
    rows: int = 3
    # Passages shorter than this many words are never deduplicated: "He said." or a one-word
    # heading repeats across unrelated articles without being a copy.
    min_words: int = 4
    # A passage whose shingles lie at least this share inside a longer kept passage is a
    # near duplicate too, whatever their Jaccard: half of a split paragraph has a Jaccard of
    # about 0.45 with the whole, but all of it is there. Computed from the pair's Jaccard
    # and the two shingle-set sizes.
    containment_threshold: float = 0.8
    # Near (not exact) duplicates need at least this many words: in a short line most
    # shingles are its structure ("Questions over the ... at the ..."), so two different
    # headings reach the threshold; measured on benchmarks/quality (docs/quality.md).
    near_min_words: int = 10
    # Whether a passage is compared with the earlier passages of its own document. Off: a
    # line a page repeats is its structure (a list's "Eat every 2-3 hours", an interview's
    # questions, a chorus), not a copy of another document; on the 711 real pages of
    # benchmarks/realpages, comparing within pages removed 1,244 lines, 1,034 of them
    # article text. (A headline repeated in the body has a rule of its own.)
    within_documents: bool = False
    # A document keeping less than this share of its content characters after passage dedup
    # is a duplicate document and leaves the corpus.
    min_unique_share: float = 0.5
    # A duplicate document shorter than this share of its target's content is a fragment of
    # it (kind "contained": a teaser, a truncated copy) rather than a full copy.
    contained_max_length_ratio: float = 0.8

    def __post_init__(self) -> None:
        _check_types(self, "dedup")
        # At most 100 (words or characters): longer shingles are whole paragraphs, and cost
        # time and memory in proportion (2**62 is an array numpy cannot make).
        _check_range("dedup.shingle_size", self.shingle_size, low=1, high=100)
        _check_range("dedup.num_perm", self.num_perm, low=16, high=4096)
        _check_range("dedup.seed", self.seed, low=0, high=2**32 - 1)
        _check_range("dedup.threshold", self.threshold, 0.0, 1.0, open_low=True)
        _check_range("dedup.bands", self.bands, low=1, high=self.num_perm)
        _check_range("dedup.rows", self.rows, low=1, high=self.num_perm)
        _check_range("dedup.containment_threshold", self.containment_threshold, 0.0, 1.0, open_low=True)
        _check_range("dedup.min_words", self.min_words, low=1, high=COUNT_MAX)
        _check_range("dedup.near_min_words", self.near_min_words, low=self.min_words, high=COUNT_MAX)
        _check_range("dedup.min_unique_share", self.min_unique_share, 0.0, 1.0)
        _check_range("dedup.contained_max_length_ratio", self.contained_max_length_ratio, 0.0, 1.0)
        if self.bands * self.rows > self.num_perm:
            raise ConfigError(
                f"dedup.bands * dedup.rows = {self.bands * self.rows} exceeds dedup.num_perm "
                f"= {self.num_perm}: each band takes `rows` hash values of the signature; "
                "lower bands or rows, or raise num_perm"
            )

    @property
    def lsh_threshold(self) -> float:
        """The Jaccard at which a pair becomes a candidate with probability ~0.5 (b, r curve)."""
        return (1.0 / self.bands) ** (1.0 / self.rows)

    def candidate_probability(self, jaccard: float) -> float:
        """Chance that a pair of this Jaccard shares at least one LSH band."""
        return 1.0 - (1.0 - jaccard**self.rows) ** self.bands


@dataclass(frozen=True)
class RewriteConfig:
    """Rewritten copies found on passage embeddings (`cleaner.dedup.rewrites`).

    The stage runs after MinHash dedup on the documents it kept (`enabled`), on the int8
    codes of passages embedded as they are cleaned. The model, `min_words`, `min_aligned`
    (which documents are embedded) and the LSH settings decide the codes and band keys the
    corpus's index keeps, so a corpus refuses other values of them (`cleaner run
    --reprocess` rebuilds it). The figures below are measured on benchmarks/rewrites (9
    fictional stories, 27 rewrites, 27 independent reports, and the seeds) and on the 711
    real pages of benchmarks/realpages.
    """

    # On by default: on the 711 real pages it adds 11 to 16% to `cleaner run`'s wall time, 20
    # to 23% on four copies of each (the bound: 25%), flags none of them and changes no figure
    # of the real-page or the synthetic gate (docs/benchmarks.md). Its weak point is text in
    # which every passage is close to every other (pages generated from one template): each
    # document is aligned with its `max_sources` likeliest sources, ~5 ms a document, though
    # `min_specificity` keeps them from being flagged. Off: nothing is embedded, compared or
    # added to the index.
    enabled: bool = True
    # Only documents identified (`clean.language`) as one of these are embedded; none: every
    # document, unidentified ones too. The model's vocabulary is English-centred: on Japanese
    # text its tokens are bytes, and any two Japanese articles came out as rewrites.
    languages: tuple[str, ...] = ("en",)
    # A passage needs this many words outside quotation marks to be embedded: a shorter one
    # ("He said.", "Mr Borrell said." once its quote is taken out) shows nothing either way.
    min_words: int = 8
    # Random +-1 projections of the codes; their sign bits cut into bands of `rows` bits. 64
    # bands of 20 bits: a pair at cosine 0.9 shares a band with probability 0.95, at 0.8 0.48,
    # at 0.3 0.002. On the real pages (34,945 passages) that is 4.8 candidates a passage,
    # where 24 bands of 12 bits gave 109, and every pair of documents of one rewrite family
    # in the labelled set still had a checked candidate.
    seed: int = 1
    bands: int = 64
    rows: int = 20
    # In each band a passage is paired with at most this many earlier passages of its bucket.
    max_bucket: int = 8
    # Two passages whose cosine reaches this may be aligned. The weakest restatement in the
    # seeds is at 0.627. At 0.6 every rewrite pair scores (see min_score) at least 1.8 times
    # any other pair; at 0.55 1.7, at 0.65 1.7 with one rewrite pair no longer compared.
    pair_threshold: float = 0.6
    # Documents are compared whole once this many of their passage pairs are candidates at
    # `pair_threshold`. One: comparisons are cheap (1,274 on the real pages, the whole stage
    # 1.3 s), and at two, 2 of the labelled set's 55 rewrite-family pairs went uncompared.
    min_candidates: int = 1
    # A document is compared whole with at most this many earlier documents: those it shares
    # the most candidate pairs with, then the earliest. A rewrite shares most of its passages
    # with its source, which is among them; where every document is close to every other
    # (generated pages of one made-up vocabulary: 1.1 million comparisons for 3,000 pages)
    # the comparisons stay at this many a document. On the labelled set every rewrite finds
    # the same source with 3 as with no bound; with 2, one points at a sibling rewrite.
    max_sources: int = 8
    # A rewrite's alignment holds at least this many pairs (two short briefs on one event can
    # share two facts), so a document with fewer passages to embed is not embedded at all; and
    # it scores at least this much (`rewrites.compare`: 1 for an exact
    # copy). Rewrite pairs scored 0.239 to 0.609 on the labelled set and the seeds, every other
    # pair at most 0.106 there and 0.133 on the real pages: 0.18 lies between.
    min_aligned: int = 3
    min_score: float = 0.18
    # ... and its pairs stand out from the rest of their rows and columns: the mean, over the
    # aligned pairs, of a pair's cosine less the median cosine of its passage with every other
    # passage of the two documents (`rewrites.specificity`). A rewrite's paragraph is close to
    # the one it restates and not to the others (0.505 to 0.705 on the labelled set and the
    # seeds); pages written from one set of sentence templates about one story are close
    # pair for pair all along (the synthetic corpus's hard negatives: the 77 pairs that pass
    # the alignment score 0.017 to 0.268). Midway between the two.
    min_specificity: float = 0.38
    # A passage of a rewrite off its alignment restates the source passage it is closest to
    # when their cosine reaches this: a paragraph the rewrite moved (found at 0.81 to 0.84 on
    # the labelled set, one missed at 0.73; no wrong mark).
    restate_threshold: float = 0.75

    def __post_init__(self) -> None:
        _check_types(self, "rewrite")
        _check_range("rewrite.min_words", self.min_words, low=1, high=COUNT_MAX)
        _check_range("rewrite.seed", self.seed, low=0, high=2**32 - 1)
        _check_range("rewrite.bands", self.bands, low=1, high=256)
        _check_range("rewrite.rows", self.rows, low=1, high=32)  # a band's bits fit the index's 32-bit keys
        _check_range("rewrite.max_bucket", self.max_bucket, low=1, high=1000)
        _check_range("rewrite.pair_threshold", self.pair_threshold, 0.0, 1.0, open_low=True)
        _check_range("rewrite.min_candidates", self.min_candidates, low=1, high=COUNT_MAX)
        _check_range("rewrite.max_sources", self.max_sources, low=1, high=COUNT_MAX)
        _check_range("rewrite.min_aligned", self.min_aligned, low=1, high=COUNT_MAX)
        _check_range("rewrite.min_score", self.min_score, 0.0, 1.0)
        _check_range("rewrite.min_specificity", self.min_specificity, -1.0, 1.0)
        _check_range("rewrite.restate_threshold", self.restate_threshold, 0.0, 1.0, open_low=True)
        unknown = [code for code in self.languages if code not in LANGUAGE_CODES]
        if unknown:
            raise ConfigError(
                f"rewrite.languages: {unknown[0]!r} is no language code the identifier answers "
                "(ISO 639-1 where there is one: 'en', 'fr', 'de', ...)"
            )


@dataclass(frozen=True)
class RunConfig:
    """How the flow cuts and schedules the work."""

    # A run's files make at least files / `batch_size` batch tasks, and at least their weight
    # / `batch_input_bytes`: a file weighs its bytes (four times them compressed) and 8 KB more,
    # about what its page's fixed cost is worth (`runner.file_weight`). A task on the process pool
    # costs ~85 ms of orchestration here, and 32 MB of input ~4 s of work on one core (a range
    # of a large JSONL file is as large: `split_bytes`). Batches of 256 pages of 5 KB spent 17%
    # of their time on it; 256 text files of 4 KB, more than on their work.
    batch_size: int = 4096
    batch_input_bytes: int = 32_000_000
    # A batch works through its records a part at a time: this many documents, or this many
    # bytes of their pages and texts, are extracted, cleaned, sketched and spooled together,
    # then let go. So a task's memory stays flat whatever its files hold (one JSONL file of a
    # million records was held whole: 2.6 GB for 56 MB of input).
    batch_records: int = 5_000
    batch_bytes: int = 32_000_000
    # A plain JSONL file larger than this is cut at line breaks into ranges of about this
    # many bytes, each a batch of its own: one file of 550 MB was one batch, read by one
    # worker while the others idled; in 17 ranges every worker reads a part, and the last
    # to finish holds up the run by one range at most. A range costs a task (~85 ms).
    split_bytes: int = 32_000_000
    # LSH band groups: the bands are cut into this many groups, found on the run's threads
    # (one per core), or each by a task on a cluster's worker, from the signature columns of
    # its bands alone. Four keep two cores busy and let a cluster spread the work; the
    # candidates are the same for any number.
    lsh_tasks: int = 4
    # Fewer signed passages than this (the run's and the earlier runs' it is compared with)
    # and LSH runs on one thread, all bands at once: it takes ~0.5 s per 100,000, and
    # sending tasks to a cluster costs ~0.3 s.
    lsh_spread_min_rows: int = 100_000

    def __post_init__(self) -> None:
        _check_types(self, "run")
        _check_range("run.batch_size", self.batch_size, low=1, high=COUNT_MAX)
        _check_range("run.batch_input_bytes", self.batch_input_bytes, low=1, high=COUNT_MAX * 1000)
        _check_range("run.batch_records", self.batch_records, low=1, high=COUNT_MAX)
        _check_range("run.batch_bytes", self.batch_bytes, low=1, high=COUNT_MAX * 1000)
        _check_range("run.split_bytes", self.split_bytes, low=1, high=COUNT_MAX * 1000)
        _check_range("run.lsh_tasks", self.lsh_tasks, low=1, high=4096)  # no more than bands
        _check_range("run.lsh_spread_min_rows", self.lsh_spread_min_rows, low=0, high=COUNT_MAX)


# Settings earlier versions had that could take one value only: a configuration file or a
# corpus that still names them with that value means what it always meant.
RETIRED = {"hash_scheme": "affine32"}  # datasketch's permutation scheme, the only one


def without_retired(settings: dict, where: str) -> dict:
    """`settings` without the retired ones, which must have their only value."""
    for key, only in RETIRED.items():
        if key in settings and settings[key] != only:
            raise ConfigError(
                f"{where} {key} can only be {only!r} (it is no longer a setting), got {_shown(settings[key])}"
            )
    return {k: v for k, v in settings.items() if k not in RETIRED}


@dataclass(frozen=True)
class Config:
    read: ReadConfig = field(default_factory=ReadConfig)
    extract: ExtractConfig = field(default_factory=ExtractConfig)
    clean: CleanConfig = field(default_factory=CleanConfig)
    dedup: DedupConfig = field(default_factory=DedupConfig)
    rewrite: RewriteConfig = field(default_factory=RewriteConfig)
    run: RunConfig = field(default_factory=RunConfig)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Config:
        """Build from plain data (a parsed TOML file or a manifest's `config`)."""
        if not isinstance(data, dict):
            raise ConfigError("configuration must be a table of sections")
        sections = {f.name: f for f in dataclasses.fields(cls)}
        _refuse_unknown(data, sections, "configuration", "section")
        built = {}
        for name, value in data.items():
            if not isinstance(value, dict):
                raise ConfigError(f"[{name}] must be a table of settings, got {_shown(value)}")
            section_cls = typing.get_type_hints(cls)[name]
            if name == "dedup":
                value = without_retired(value, f"[{name}]")
            _refuse_unknown(value, {f.name for f in dataclasses.fields(section_cls)}, f"[{name}]", "key")
            value = {k: tuple(v) if isinstance(v, list) else v for k, v in value.items()}
            built[name] = section_cls(**value)
        return cls(**built)

    def to_dict(self) -> dict[str, Any]:
        return {
            f.name: {
                k: list(v) if isinstance(v, tuple) else v
                for k, v in dataclasses.asdict(getattr(self, f.name)).items()
            }
            for f in dataclasses.fields(self)
        }


def load_config(path: str | Path | None) -> Config:
    """Read a TOML configuration file; None gives the defaults."""
    if path is None:
        return Config()
    path = Path(path)
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"configuration file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        if path.read_bytes().startswith(b"\xef\xbb\xbf"):
            raise ConfigError(
                f"{path}: starts with a byte order mark, which TOML does not allow: save it as UTF-8 without one"
            ) from None
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:  # before ValueError, which it is
        raise ConfigError(
            f"{path}: not UTF-8 text (byte {exc.start} is {exc.object[exc.start]:#04x}); TOML files are UTF-8: save it so"
        ) from None
    except ValueError:  # tomllib reads no integer of over 4,300 digits
        raise ConfigError(f"{path}: a number in it has thousands of digits; no setting takes one") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read configuration: {exc.strerror}") from None
    return Config.from_dict(data)


def _refuse_unknown(data: dict, known, where: str, what: str) -> None:
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ConfigError(f"{where}: unknown {what}(s) {unknown}; valid: {sorted(known)}")


def _check_types(obj: object, section: str) -> None:
    hints = typing.get_type_hints(type(obj))
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        expected = hints[f.name]
        key = f"{section}.{f.name}"
        if typing.get_origin(expected) is Literal:
            choices = typing.get_args(expected)
            if value not in choices:
                raise ConfigError(f"{key} must be one of {list(choices)}, got {_shown(value)}")
        elif expected is bool:
            if not isinstance(value, bool):
                raise ConfigError(f"{key} must be true or false, got {_shown(value)}")
        elif expected is int:
            if isinstance(value, bool) or not isinstance(value, int):
                raise ConfigError(f"{key} must be an integer, got {_shown(value)}")
        elif expected is float:
            finite = not isinstance(value, float) or math.isfinite(value)  # an int may not fit a float
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not finite:
                raise ConfigError(f"{key} must be a number, got {_shown(value)}")
        elif expected is str:
            if not isinstance(value, str):
                raise ConfigError(f"{key} must be a string, got {_shown(value)}")
        elif typing.get_origin(expected) is tuple:  # noqa: SIM102 (one branch per type)
            if not isinstance(value, tuple) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{key} must be a list of strings, got {_shown(value)}")


def _check_range(
    key: str,
    value: float,
    low: float | None = None,
    high: float | None = None,
    open_low: bool = False,
) -> None:
    too_low = low is not None and (value <= low if open_low else value < low)
    too_high = high is not None and value > high
    if too_low or too_high:
        lo = "" if low is None else (f"> {_number(low)}" if open_low else f">= {_number(low)}")
        hi = "" if high is None else f"<= {_number(high)}"
        bounds = " and ".join(b for b in (lo, hi) if b)
        raise ConfigError(f"{key} must be {bounds}, got {_shown(value)}")


def _number(value: float) -> str:
    """A bound as a TOML file may write it: 1_000_000_000."""
    return f"{value:_}" if isinstance(value, int) else f"{value}"


def _shown(value: object) -> str:
    """A setting's value for a message, short whatever it is."""
    if isinstance(value, tuple):  # a TOML list, held as a tuple: said as it was written
        value = list(value)
    try:
        text = repr(value)
    except ValueError:  # an integer of over 4,300 digits
        return "an integer of thousands of digits"
    return text if len(text) <= 80 else text[:80] + "..."
