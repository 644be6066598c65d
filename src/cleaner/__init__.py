"""cleaner: scraped news pages in, a clean deduplicated Parquet corpus out.

The package is a library of stages (read, extract, clean, dedup, write) over two record
types: a `Document` for one page, the `Sketch` columns for whole-corpus stages. `cleaner.run`
is a whole run (`cleaner.runner`); the Prefect flow and the `cleaner` command (`flows/`,
installed as `cleaner_flows`) are a thin adapter over it. The library never imports Prefect.
"""

from cleaner.config import Config, load_config
from cleaner.corpus.writers import SCHEMA_VERSION
from cleaner.document import Document, Passage, Reject, Status
from cleaner.errors import CleanerError, ConfigError, InputError, OutputError

__version__ = "0.1.0"

__all__ = [
    "SCHEMA_VERSION",
    "CleanerError",
    "Config",
    "ConfigError",
    "Document",
    "Executor",
    "InlineExecutor",
    "InputError",
    "LocalExecutor",
    "OutputError",
    "Passage",
    "Reject",
    "RunSummary",
    "Status",
    "__version__",
    "load_config",
    "run",
]

_RUNNER = {"Executor", "InlineExecutor", "LocalExecutor", "RunSummary", "run"}


def __getattr__(name: str):
    # The run and its executors import every stage (trafilatura among them): only when asked
    # for, so that `import cleaner.config` stays light.
    if name in _RUNNER:
        from cleaner import runner

        return getattr(runner, name)
    raise AttributeError(f"module 'cleaner' has no attribute {name!r}")
