"""Exception types. Every error the library raises on purpose derives from `CleanerError`,
so the CLI can turn it into a one-line message instead of a traceback."""


class CleanerError(Exception):
    """Root of the errors cleaner raises deliberately."""


class ConfigError(CleanerError, ValueError):
    """A setting is invalid. The message says which one and how to fix it."""


class InputError(CleanerError):
    """An input path given by the user does not exist or cannot be used at all."""


class OutputError(CleanerError):
    """The output folder cannot be written (locked by another run, not a folder, ...)."""
