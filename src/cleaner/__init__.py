"""cleaner: scraped news pages in, a clean deduplicated Parquet corpus out.

The package is a library of pure stages (read, extract, clean, dedup, write) over one record
type, `Document`. Orchestration lives in the Prefect flow (`flows/`, installed as
`cleaner_flows`); the library itself never imports Prefect.
"""

from cleaner.config import Config, load_config
from cleaner.document import Document, Passage, Reject, Status
from cleaner.errors import CleanerError, ConfigError, InputError, OutputError
from cleaner.writers import SCHEMA_VERSION

__version__ = "0.1.0"

__all__ = [
    "SCHEMA_VERSION",
    "CleanerError",
    "Config",
    "ConfigError",
    "Document",
    "InputError",
    "OutputError",
    "Passage",
    "Reject",
    "Status",
    "__version__",
    "load_config",
]
