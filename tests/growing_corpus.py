"""Corpora grown run by run without Prefect: what the flow does after its batches (the index
opened, repeated ids left out, dedup against the corpus, the write and the commit with the
index's partitions and records), on documents made here. Shared by the tests that damage a
corpus on disk (test_check, test_inputs), or write its index as an earlier cleaner did."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from cleaner.config import Config, DedupConfig, RewriteConfig
from cleaner.corpus import index, writers
from cleaner.dedup.lsh import band_keys
from cleaner.dedup.signatures import Signer
from cleaner.dedup.sketch import Sketch
from cleaner.dedup.visit import deduplicate_sketch
from cleaner.document import Document, Passage, Status
from cleaner.io.records import Seen

STORIES = [
    [
        "The harbour board agreed on Friday to dredge the northern channel before the autumn storms arrive in force.",
        "Fishing crews had warned for two winters that silt left the channel too shallow for loaded boats at low tide.",
    ],
    [
        "A new cycle path along the river will open in June, linking the old town with the university campus in the north.",
        "The council said the path would cost less than a tenth of the road widening that had been planned for the same stretch.",
    ],
    [
        "Tickets for the summer music festival sold out within an hour of going on sale, the organisers said on Monday.",
        "Extra trains will run from the city on both festival nights, and the last one leaves the valley at half past one.",
    ],
    [
        "The old stone bridge over the Kessel will close to lorries for three months while engineers replace its worn bearings.",
        "Drivers of heavy vehicles are asked to use the ring road, which adds about twenty minutes to a crossing at peak hours.",
    ],
]


def documents(groups: list[list[str]], prefix: str, rank: int = 0) -> list[Document]:
    """One document per group of paragraphs, with a line of chrome first."""
    return [
        Document(
            f"{prefix}{i}",
            f"in/{prefix}{i}.txt",
            (rank + i, 0),
            "text",
            passages=[Passage(0, "Share this article", Status.BOILERPLATE, "share_prompt")]
            + [Passage(j + 1, text) for j, text in enumerate(group)],
        )
        for i, group in enumerate(groups)
    ]


def commit_run(out: Path, run_id: str, docs: list[Document], config: DedupConfig | None = None) -> dict:
    """Add a run of `docs` to the corpus in `out` as the flow does, with MinHash dedup only
    (the configuration it records says so: no rewrite stage); returns its manifest."""
    config = config or DedupConfig()
    with writers.open_run(out, run_id) as staging:
        corpus = index.Index(out, config)
        sketch = Sketch.of(docs, config)
        rejects = sketch.exclude_repeated_ids(corpus.known_ids(sketch.doc_ids))
        deduplicate_sketch(sketch, config, corpus.prior(sketch))
        writer = writers.CorpusWriter(staging)
        writer.add(sketch.apply(docs), sketch.kept_of(0, len(docs)))
        manifest = writers.build_manifest(
            run_id=run_id,
            inputs=["in"],
            config=Config(dedup=config, rewrite=RewriteConfig(enabled=False)).to_dict(),
            stages={},
            timings={},
            versions={},
        )
        seen = [Seen(d.order[0], d.source, 100, 1, f"digest-{d.doc_id}", f"/data/{d.source}") for d in docs]
        first = corpus.next_doc()
        tables = index.run_tables(sketch, first, index.input_rows(seen, []), config, run_id)
        manifest["index"] = index.record(tables, first)
        return writer.commit(rejects, manifest, tables, index.params_file(config))


def grown(out: Path) -> list[dict]:
    """A corpus of three runs: two stories, a copy of the first with a new story, and one
    more; returns their manifests."""
    copy = [STORIES[0][0].replace("Friday", "Thursday"), STORIES[0][1]]
    return [
        commit_run(out, "20260301T000000Z-aaaaaaaa", documents(STORIES[:2], "a")),
        commit_run(out, "20260302T000000Z-bbbbbbbb", documents([copy, STORIES[2]], "b", rank=10)),
        commit_run(out, "20260303T000000Z-cccccccc", documents([STORIES[3]], "c", rank=20)),
    ]


def tables(out: Path, names=(*writers.DATASETS, "index/documents", "index/passages", "index/inputs")) -> dict:
    """Every dataset of the corpus (and of its index), rows in file order."""
    found = {}
    for name in names:
        files = sorted(str(p) for p in (out / name).glob("run=*/*.parquet"))
        found[name] = ds.dataset(files, format="parquet").to_table().to_pylist() if files else []
    return found


def in_earlier_layout(out: Path, config: DedupConfig | None = None) -> None:
    """Rewrite the corpus's index/passages as cleaners before the compact index wrote it: per
    signed first occurrence its distinct shingles (`size`), its signature (`binary`, uint32
    values) and a 64-bit key per band; 0, null and nulls for the others."""
    config = config or DedupConfig()
    passages = ds.dataset(out / "passages", format="parquet").to_table(columns=["doc_id", "position", "text"])
    text_of = dict(
        zip(
            zip(passages["doc_id"].to_pylist(), passages["position"].to_pylist(), strict=True),
            passages["text"].to_pylist(),
            strict=True,
        )
    )
    numbered = ds.dataset(out / "index" / "documents", format="parquet").to_table()
    id_of = dict(zip(numbered["doc"].to_pylist(), numbered["doc_id"].to_pylist(), strict=True))
    keys = index.band_columns(config)
    for path in (out / "index" / "passages").glob("run=*/*.parquet"):
        table = pq.read_table(path)
        signed = table[keys[0]].is_valid().to_numpy(zero_copy_only=False)
        texts = [
            text_of[id_of[d], p]
            for d, p in zip(table["doc"].to_pylist(), table["position"].to_pylist(), strict=True)
        ]
        made = Signer(config)([t for t, s in zip(texts, signed.tolist(), strict=True) if s])
        values = np.zeros((table.num_rows, config.num_perm), dtype="<u4")
        values[signed] = made.values
        sizes = np.zeros(table.num_rows, dtype=np.int32)
        sizes[signed] = made.sizes
        wide = band_keys(values, config)
        columns = {
            name: table[name] for name in ("doc", "position", "fingerprint", "n_words", "chars", "first")
        }
        columns["size"] = pa.array(sizes)
        columns["signature"] = pa.array(
            [v.tobytes() if s else None for v, s in zip(values, signed.tolist(), strict=True)],
            pa.binary(4 * config.num_perm),
        )
        for band, name in enumerate(keys):
            columns[name] = pa.array(wide[:, band], mask=~signed)
        pq.write_table(pa.table(columns), path, compression="zstd", use_dictionary=False)
