import dataclasses
import tomllib
import typing
from pathlib import Path

import pytest

from cleaner.config import CleanConfig, Config, DedupConfig, load_config
from cleaner.errors import ConfigError


def test_defaults_are_valid_and_round_trip_through_dict():
    config = Config()
    assert Config.from_dict(config.to_dict()) == config


def test_config_is_frozen():
    with pytest.raises(AttributeError):
        Config().dedup.threshold = 0.9  # type: ignore[misc]


def test_load_toml_file_overrides_only_named_keys(tmp_path):
    path = tmp_path / "cleaner.toml"
    path.write_text('[dedup]\nthreshold = 0.7\n[clean]\nlearned_min_docs = 4\ndisabled_rules = ["byline"]\n')
    config = load_config(path)
    assert config.dedup.threshold == 0.7
    assert config.dedup.num_perm == DedupConfig().num_perm
    assert config.clean.learned_min_docs == 4
    assert config.clean.disabled_rules == ("byline",)


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[dedup]\nthreshhold = 0.7\n", "unknown key(s) ['threshhold']"),
        ("[dedupe]\n", "unknown section(s) ['dedupe']"),
        ("[dedup]\nthreshold = 1.5\n", "dedup.threshold must be > 0.0 and <= 1.0"),
        ("[dedup]\nnum_perm = '128'\n", "dedup.num_perm must be an integer"),
        ("[dedup]\nshingle = 'sentence'\n", "dedup.shingle must be one of ['word', 'char']"),
        (
            "[dedup]\nshingle_hash = 'sha1'\n",
            "dedup.shingle_hash must be one of ['fmix64-fold-fmix32', 'blake2b-fold-fmix32']",
        ),
        ("[dedup]\nbands = 64\nrows = 4\n", "exceeds dedup.num_perm"),
        ("[clean]\ndisabled_rules = ['no_such_rule']\n", "unknown rule(s) ['no_such_rule']"),
        ("[clean]\nlearned_min_docs = 1\n", "clean.learned_min_docs must be >= 2"),
        ("[run]\nbatch_size = true\n", "run.batch_size must be an integer"),
        ("[read]\nmax_record_bytes = 0\n", "read.max_record_bytes must be >= 1"),
        ("[read]\ntext_column = ''\n", "read.text_column must name a column"),
        (
            "[read]\nhtml_column = 'text'\n",
            "read.text_column and read.html_column both name the column 'text'",
        ),
        ("[run]\nlsh_tasks = 0\n", "run.lsh_tasks must be >= 1"),
        ("[run]\nsplit_bytes = 0\n", "run.split_bytes must be >= 1"),
        ("[extract]\ntimeout_seconds = 0\n", "extract.timeout_seconds must be > 0"),
        ("[extract]\ntimeout_seconds = 'soon'\n", "extract.timeout_seconds must be a number"),
        (
            "[extract]\nfallback_below_share = 5000.0\n",
            "extract.fallback_below_share must be >= 0 and <= 1, got 5000",
        ),
        (
            "[extract]\nfocus = 'recall'\nfallback_focus = 'recall'\n",
            "extract.fallback_focus: 'recall' is extract.focus too",
        ),
        ("[dedup]\nshingle_size = [1, 2]\n", "dedup.shingle_size must be an integer, got [1, 2]"),
        ("dedup = 3\n", "[dedup] must be a table"),
        ("[dedup\n", "not valid TOML"),
    ],
)
def test_bad_settings_fail_with_a_message_naming_the_key(tmp_path, toml, message):
    path = tmp_path / "bad.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert message in str(info.value)


def test_missing_config_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")


def test_lsh_defaults_catch_pairs_at_the_threshold():
    dedup = DedupConfig()
    # The banding must make a pair at the verification threshold a candidate almost surely,
    # or verification never sees it.
    assert dedup.candidate_probability(dedup.threshold) > 0.99
    assert dedup.lsh_threshold < dedup.threshold
    assert CleanConfig().learned_min_docs >= 2


def _numeric_settings() -> list[str]:
    keys = []
    for section in dataclasses.fields(Config):
        hints = typing.get_type_hints(type(getattr(Config(), section.name)))
        keys += [f"{section.name}.{name}" for name, kind in hints.items() if kind in (int, float)]
    return keys


@pytest.mark.parametrize("key", _numeric_settings())
def test_every_numeric_setting_has_an_upper_bound_named_in_one_line(tmp_path, key):
    # 10**19 overflows int64 and numpy; read.max_record_bytes = 10**19 used to pass, and
    # every page read then raised OverflowError.
    section, name = key.split(".")
    path = tmp_path / "huge.toml"
    path.write_text(f"[{section}]\n{name} = 10000000000000000000\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(f"{key} must be ") and "<= " in message and "\n" not in message


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            "[read]\nmax_record_bytes = 10000000000000000000\n",
            "read.max_record_bytes must be >= 1 and <= 1_000_000_000, got 10000000000000000000",
        ),
        ("[read]\nmax_record_bytes = 1e19\n", "read.max_record_bytes must be an integer, got 1e+19"),
        (
            "[extract]\ntimeout_seconds = 1e19\n",
            "extract.timeout_seconds must be > 0 and <= 86_400, got 1e+19",
        ),
        ("[dedup]\nshingle_size = 4611686018427387904\n", "dedup.shingle_size must be >= 1 and <= 100"),
        ("[run]\nlsh_tasks = 10000000000000000000\n", "run.lsh_tasks must be >= 1 and <= 4_096"),
        ("[dedup]\nbands = 10000000000000000000\n", "dedup.bands must be >= 1 and <= 128"),
        ("[read]\ntext_column = 5\n", "read.text_column must be a string, got 5"),
        ("[read]\nmax_record_bytes = " + "9" * 5000 + "\n", "a number in it has thousands of digits"),
    ],
)
def test_out_of_range_settings_are_refused_with_the_allowed_range(tmp_path, toml, message):
    path = tmp_path / "bad.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_a_huge_integer_given_as_data_is_refused_in_a_short_message():
    with pytest.raises(ConfigError) as info:
        Config.from_dict({"read": {"max_record_bytes": 10**5000}})
    assert str(info.value) == (
        "read.max_record_bytes must be >= 1 and <= 1_000_000_000, got an integer of thousands of digits"
    )
    with pytest.raises(ConfigError, match=r"extract.timeout_seconds must be > 0 and <= 86_400"):
        Config.from_dict({"extract": {"timeout_seconds": 10**400}})  # too large for a float


def test_the_largest_allowed_settings_are_accepted():
    config = Config.from_dict(
        {
            "read": {"max_record_bytes": 1_000_000_000},
            "extract": {"timeout_seconds": 86_400, "fallback_below_words": 1_000_000_000},
            "run": {"batch_size": 1_000_000_000, "lsh_tasks": 4096, "lsh_spread_min_rows": 1_000_000_000},
            "dedup": {"shingle_size": 100},
        }
    )
    assert Config.from_dict(config.to_dict()) == config


def test_a_retired_setting_is_accepted_with_its_only_value_and_refused_with_another():
    assert Config.from_dict({"dedup": {"hash_scheme": "affine32", "seed": 3}}) == Config(
        dedup=DedupConfig(seed=3)
    )
    with pytest.raises(ConfigError, match=r"\[dedup\] hash_scheme can only be 'affine32'"):
        Config.from_dict({"dedup": {"hash_scheme": "affine64"}})


def test_the_readme_lists_every_setting_with_its_default(tmp_path):
    """The README's configuration block is a valid file that says what the defaults are:
    loaded, it is the default configuration, and it names every setting."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Configuration", 1)[1].split("```toml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "readme.toml"
    path.write_text(block, encoding="utf-8")
    assert load_config(path) == Config()
    written = tomllib.loads(block)
    for section, values in Config().to_dict().items():
        assert set(written[section]) == set(values), section


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"# r\xe9glages (latin-1)\n[run]\nbatch_size = 2\n", r"not UTF-8 text \(byte 3 is 0xe9\)"),
        ("[run]\nbatch_size = 2\n".encode("utf-16"), r"not UTF-8 text \(byte 0 is 0xff\)"),
        (b"\xef\xbb\xbf[run]\nbatch_size = 2\n", "starts with a byte order mark"),
    ],
)
def test_a_file_not_in_utf8_says_so(tmp_path, content, message):
    """It was "a number in it has thousands of digits": tomllib's UnicodeDecodeError is a ValueError."""
    path = tmp_path / "cleaner.toml"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=message) as refused:
        load_config(path)
    assert "\n" not in str(refused.value)
