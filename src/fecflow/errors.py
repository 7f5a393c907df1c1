"""The one exception tree of fecflow.

Every error the library raises is a :class:`FecflowError`. Third-party errors are translated once,
at the boundary where they happen (``raise XError(...) from exc``). Callers retry by *type*
(``err.retryable``), never by message text. Only the CLI catches these, prints ``Error:`` and
``Hint:`` and maps them to an exit code.

The tree (exit code; *retryable*)::

    FecflowError                      1
    |-- ConfigError                   2   a setting is missing or invalid
    |   `-- ApiKeyError               2   the OpenFEC key is missing or not allowed
    |-- DatabaseError                 3
    |   |-- DatabaseUnavailable       3   *retryable*: the server is not reachable (yet)
    |   |-- EmbeddedPostgresError     3   the embedded server could not start or stop
    |   |-- SchemaNotReady            3   migrations are missing: `fecflow db upgrade`
    |   `-- LockHeld                  4   another run holds the pipeline lock
    |-- SourceError                   1   HTTP server, API or object storage failed
    |   |-- TransientSourceError      1   *retryable*: connection reset, timeout, 408 / 5xx
    |   |   `-- RateLimited           1   *retryable*: 429, with the server's Retry-After
    |   |-- HttpStatusError           1   a terminal HTTP status (4xx)
    |   |-- IntegrityError            1   size, checksum or archive check failed
    |   |   `-- UnsafeArchive         1   path traversal, links, zip bomb
    |   `-- StorageError              1   raw storage (disk or S3) failed
    |-- DataError                     1   input cannot be processed as a whole
    |   |-- UnknownFileType           2   not declared in the catalog
    |   |-- SnapshotRefused           5   a snapshot would shrink core past a tolerance, or is older
    |   `-- StageAborted              1   a staging batch stopped because another batch failed
    `-- ValidationFailed              5   a validation check failed; later stages did not run

``tests/unit/test_errors.py`` keeps this drawing in step with the classes.
"""

from __future__ import annotations


class FecflowError(Exception):
    """Base class. ``hint`` names the next thing the user can do (usually a command)."""

    retryable: bool = False
    exit_code: int = 1
    default_hint: str | None = None

    def __init__(self, message: str, *, hint: str | None = None, retryable: bool | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint if hint is not None else self.default_hint
        if retryable is not None:
            self.retryable = retryable

    def __str__(self) -> str:
        return self.message


# --- configuration ----------------------------------------------------------------------------------
class ConfigError(FecflowError):
    """A setting is missing or invalid."""

    exit_code = 2
    default_hint = "Check your FECFLOW_* environment variables or .env file (see .env.example)."


# --- database ---------------------------------------------------------------------------------------
class DatabaseError(FecflowError):
    """The database could not be reached or refused an operation."""

    exit_code = 3


class DatabaseUnavailable(DatabaseError):
    """The server is not reachable (yet); trying again may help."""

    retryable = True
    default_hint = "Run `fecflow db start` (embedded) or check FECFLOW_DATABASE_URL."


class EmbeddedPostgresError(DatabaseError):
    """The embedded PostgreSQL server could not be initialised, started or stopped."""

    default_hint = "Run `fecflow db status` for details; the server log is under FECFLOW_HOME/pg/."


class SchemaNotReady(DatabaseError):
    """The database schema is missing or behind the code's migrations."""

    default_hint = "Run `fecflow db upgrade`."


class LockHeld(DatabaseError):
    """Another fecflow run holds the pipeline lock."""

    exit_code = 4
    default_hint = "Wait for the other run to finish, or inspect it with `fecflow runs`."


# --- sources ----------------------------------------------------------------------------------------
class SourceError(FecflowError):
    """Something outside (HTTP server, API, object storage) failed."""


class TransientSourceError(SourceError):
    """A failure that may go away on retry: connection reset, timeout, HTTP 5xx."""

    retryable = True


class RateLimited(TransientSourceError):
    """The server answered 429 Too Many Requests."""

    default_hint = "Wait, then run the same command again; fetch-api resumes after its last stored page."

    def __init__(self, message: str, *, retry_after: float | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.retry_after = retry_after


class HttpStatusError(SourceError):
    """A terminal HTTP error status (4xx other than 408/429)."""

    def __init__(self, message: str, *, status: int, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status = status


class IntegrityError(SourceError):
    """A downloaded or stored file failed a size, checksum or archive check."""

    default_hint = "Nothing was stored or recorded as usable; run the same `fecflow fetch` again."


class UnsafeArchive(IntegrityError):
    """An archive has path traversal, links or a suspicious compression ratio."""


class StorageError(SourceError):
    """Raw storage (local disk or S3) failed."""


class ApiKeyError(ConfigError):
    """The OpenFEC API key is missing or not allowed for this operation."""

    default_hint = "Set FECFLOW_OPENFEC_API_KEY (get a key at https://api.data.gov/signup/)."


# --- data -------------------------------------------------------------------------------------------
class DataError(FecflowError):
    """Input data cannot be processed as a whole (bad rows go to ops.rejected_row instead)."""


class UnknownFileType(DataError):
    """A file type is not declared in the catalog."""

    exit_code = 2


class SnapshotRefused(DataError):
    """A snapshot would take data out of core that it should not (shrinks past a tolerance, or is
    older than the snapshot core holds); the unit rolled back and nothing changed."""

    exit_code = 5


class StageAborted(DataError):
    """A staging batch stopped because another batch of the same file failed."""


class ValidationFailed(FecflowError):
    """One or more validation checks failed; downstream stages were not run."""

    exit_code = 5
    default_hint = "Inspect the failed checks with `fecflow runs show RUN_ID`."
