"""A plain `pip install .` must carry the flow and the sample corpus, so that `cleaner run`
with no arguments works outside a checkout."""

import subprocess
import sys
import zipfile

from tests.conftest import EXAMPLES, REPO


def test_wheel_ships_flows_and_examples_and_finds_them_when_installed(tmp_path):
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"), str(REPO)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, build.stderr
    (wheel,) = (tmp_path / "dist").glob("cleaner-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "cleaner_flows/clean_corpus.py" in names
    assert "cleaner/examples/labels.json" in names
    pages = sorted(p.relative_to(EXAMPLES).as_posix() for p in (EXAMPLES / "pages").rglob("*") if p.is_file())
    assert pages and all(f"cleaner/examples/{p}" in names for p in pages)

    target = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(target)
    code = "from cleaner.runner import bundled_examples; print(bundled_examples())"
    found = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(target)!r}); {code}"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert found.returncode == 0, found.stderr
    assert found.stdout.strip() == "site/cleaner/examples/pages"
