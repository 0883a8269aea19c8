"""One root exception, split into retryable and terminal (the sqlmesh/dlt style).

Messages say what to fix: which file, which line or column, which variable.
"""


class MedallionError(Exception):
    """Root of every error the pipeline raises on purpose."""


class TerminalError(MedallionError):
    """Retrying will not help: bad configuration, bad input, a failed critical check."""


class RetryableError(MedallionError):
    """A transient failure (connection drop, serialization failure); safe to retry."""


class ConfigError(TerminalError):
    """A setting is missing or wrong; the message names the variable to set."""


class ServiceUnavailable(RetryableError):
    """A service does not answer; the message names host, port and the variable to set.

    Retryable: a database restarting under a running DAG comes back, and the
    task's next try succeeds. The CLI still reports it as one line.
    """


class RejectedFile(TerminalError):
    """A raw file cannot be loaded as a whole; the message says what to fix in it."""


class QualityGateFailed(TerminalError):
    """A critical data-quality check failed, so the next layer is not built."""
