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


def first_line(exc: BaseException, limit: int = 200) -> str:
    """An exception's message as one line of at most `limit` characters: what a reject's
    detail or a damage report shows."""
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:limit]
