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
        ("[run]\nlsh_tasks = 0\n", "run.lsh_tasks must be >= 1"),
        ("[extract]\ntimeout_seconds = 0\n", "extract.timeout_seconds must be > 0"),
        ("[extract]\ntimeout_seconds = 'soon'\n", "extract.timeout_seconds must be a number"),
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
