"""The signatures' store: what it reads is what was saved, from files and memory alike, and a
missing or foreign file is a one-line error, never a wrong answer."""

import pickle

import numpy as np
import pytest

from cleaner.dedup.store import SignatureStore, StoreError

WIDTH = 128


@pytest.fixture
def parts(tmp_path):
    """Parts of uneven sizes (one empty, one of a single row), saved as a worker saves them."""
    rng = np.random.default_rng(7)
    arrays = [rng.integers(0, 2**32, size=(n, WIDTH), dtype=np.uint32) for n in (5, 0, 1, 300, 77)]
    paths = []
    for i, values in enumerate(arrays):
        paths.append(tmp_path / f"part-{i}.npy")
        SignatureStore.save(paths[-1], values)
    return arrays, paths


def test_columns_and_rows_read_from_files_and_memory_are_the_saved_values(parts, tmp_path):
    arrays, paths = parts
    held = np.arange(3 * WIDTH, dtype=np.uint32).reshape(3, WIDTH)
    store = SignatureStore.of(held).then(SignatureStore.files(paths, WIDTH))
    whole = np.concatenate([held, *arrays])
    assert store.shape == whole.shape == (386, WIDTH)
    np.testing.assert_array_equal(store.columns(0, WIDTH), whole)
    np.testing.assert_array_equal(store.columns(9, 12), whole[:, 9:12])
    rows = np.random.default_rng(1).integers(0, len(whole), size=1000)  # any order, repeats
    np.testing.assert_array_equal(store.take(rows), whole[rows])
    assert store.take(np.zeros(0, dtype=np.int64)).shape == (0, WIDTH)
    with pytest.raises(IndexError):
        store.take(np.array([len(whole)]))
    # on disk, it pickles as file names: what an LSH task carries
    moved = pickle.loads(pickle.dumps(store.on_disk(tmp_path / "held")))
    assert len(pickle.dumps(moved)) < 2000
    np.testing.assert_array_equal(moved.take(rows), whole[rows])


def test_a_missing_or_foreign_signature_file_is_a_one_line_error(parts, tmp_path):
    arrays, paths = parts
    paths[3].unlink()
    with pytest.raises(StoreError, match=r"part-3\.npy cannot be read .*run again"):
        SignatureStore.files(paths, WIDTH)
    np.save(paths[3], np.ascontiguousarray(arrays[3]))  # row-major: not what a worker writes
    with pytest.raises(StoreError, match=r"not the run's column-major"):
        SignatureStore.files(paths, WIDTH)
    with pytest.raises(StoreError, match=r"not the run's column-major"):
        SignatureStore.files(paths[:1], WIDTH // 2)
    SignatureStore.save(paths[3], arrays[3])
    store = SignatureStore.files(paths, WIDTH)
    with open(paths[4], "r+b") as fh:  # cut short after the store was made
        fh.truncate(1000)
    with pytest.raises(StoreError, match=r"part-4\.npy is cut short"):
        store.columns(0, 3)
    paths[0].write_bytes(b"not numpy")
    with pytest.raises(StoreError, match=r"part-0\.npy cannot be read \(not a signature file\)"):
        SignatureStore.files(paths, WIDTH)
