"""The one reader of the environment: a frozen, typed settings object.

Variables are those of the original pipeline (POSTGRES_*, MONGO_*, RAW_DATA_PATH) plus Airflow's API address and credentials. A `.env` file in
the working directory is read when present. Private services started by
`medallion services up` write their coordinates to `.medallion/services.env`,
which is read after `.env` and before the process environment, so explicit
variables always win.
"""

from __future__ import annotations

import ipaddress
import os
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import quote_plus, urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
EXECUTOR_KINDS = ("local", "celery")

# Passwords that ship with the product (the built-in default and .env.example's
# placeholder): nobody may reach a console or Airflow guarded by one of these from
# another machine.
DEFAULT_PASSWORDS = frozenset({"", "admin", "change-me"})


def is_loopback(host: str | None) -> bool:
    """True when `host` only accepts connections from this machine (127.0.0.0/8, ::1, localhost).

    An empty host, a wildcard (0.0.0.0, ::) or any other name counts as reachable
    from the network: a name is not resolved, so only loopback literals pass.
    """
    host = (host or "").strip().strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def state_dir() -> Path:
    """Where private services, pid files and logs live (`MEDALLION_HOME`, default `.medallion`)."""
    return Path(os.environ.get("MEDALLION_HOME", PROJECT_ROOT / ".medallion")).resolve()


def _env_files() -> tuple[Path, ...]:
    return (PROJECT_ROOT / ".env", Path(".env"), state_dir() / "services.env")


class Settings(BaseSettings):
    """Every knob of the product. Read inside tasks and pages, never at DAG import."""

    model_config = SettingsConfigDict(
        env_file=_env_files(), env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    postgres_host: str = "127.0.0.1"
    postgres_port: int = 5432
    postgres_db: str = "video_analytics"
    postgres_user: str = "postgres"
    postgres_password: SecretStr = SecretStr("")

    mongo_host: str = "127.0.0.1"
    mongo_port: int = 27017
    mongo_db: str = "video_content"
    mongo_uri: SecretStr | None = None

    raw_data_path: Path = Path("data/raw")

    bronze_batch_size: int = 1000
    # Decompressed bytes of one raw file beyond which it is rejected (a gzip bomb of valid
    # rows would otherwise fill bronze); generous, since real exports are far smaller.
    ingest_max_file_bytes: int = Field(default=20 * 1024**3, gt=0)
    enable_data_quality_checks: bool = True

    airflow_api_url: str = "http://127.0.0.1:8080"
    airflow_username: str = "admin"
    airflow_password: SecretStr = SecretStr("admin")
    # The interface `airflow api-server` listens on (AIRFLOW_API_URL is how clients reach it).
    airflow_api_host: str = "127.0.0.1"

    console_port: int = 8501
    # The interface the console listens on; anything but loopback needs a non-default password.
    console_address: str = "127.0.0.1"
    console_public_read: bool = True
    # Personal data (failed-row samples of email/name columns), task logs and database
    # coordinates are shown to anonymous readers only when this is true.
    console_public_details: bool = False
    # A signed-in console session ends after this many minutes without a page run.
    console_session_idle_minutes: float = 30.0

    # Alerts: silent when unset.
    alert_email_to: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 25
    # auto: STARTTLS when the server offers it (required with SMTP_USER), SMTPS on port 465;
    # starttls: always STARTTLS; ssl: SMTPS (TLS from the first byte). Certificates are verified.
    smtp_tls: Literal["auto", "starttls", "ssl"] = "auto"
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "medallion@localhost"
    slack_webhook_url: SecretStr | None = None

    # Anomaly flags (etl/observability/anomalies.py): a run's value is flagged when it falls
    # outside median ± k·MAD of the same series' previous ANOMALY_WINDOW_RUNS runs, once at
    # least ANOMALY_MIN_HISTORY_RUNS runs exist. The band's half-width is never narrower than
    # ANOMALY_MIN_RELATIVE_DEVIATION × |median|, nor ANOMALY_MIN_ABSOLUTE_DEVIATION rows
    # (for a quality score: ANOMALY_MIN_SCORE_DEVIATION points, no relative floor): a
    # perfectly steady history has MAD = 0, and without a floor any change would be flagged.
    anomaly_window_runs: int = Field(20, ge=3)
    anomaly_mad_k: float = Field(5.0, gt=0)
    anomaly_min_history_runs: int = Field(5, ge=2)
    anomaly_min_relative_deviation: float = Field(0.10, ge=0)
    anomaly_min_absolute_deviation: float = Field(5.0, ge=0)
    anomaly_min_score_deviation: float = Field(2.0, ge=0)

    # Freshness (etl/observability/freshness.py): the age a gold table may reach (now minus
    # its last successful build) before it is a breach; GOLD_MAX_AGE_OVERRIDES sets it per
    # table as `table=hours,...` (e.g. `kpi_summary=2,daily_viewing=30`; `gold.` optional).
    gold_max_age_hours: float = Field(26.0, gt=0)
    gold_max_age_overrides: str = ""

    @field_validator("gold_max_age_overrides")
    @classmethod
    def _check_overrides(cls, value: str) -> str:
        parse_max_age_overrides(value)
        return value

    def gold_max_age_for(self, table: str) -> float:
        """The maximum age in hours of a gold table (`gold.x` or `x`)."""
        overrides = parse_max_age_overrides(self.gold_max_age_overrides)
        return overrides.get(_gold_name(table), self.gold_max_age_hours)

    # Executor of the local Airflow (`medallion airflow up`): `local` (LocalExecutor) or
    # `celery` (CeleryExecutor with MEDALLION_CELERY_WORKERS `airflow celery worker`
    # processes on CELERY_BROKER_URL). No broker means no Celery: never a silent fallback.
    medallion_executor: str = "local"
    medallion_celery_workers: int = 2
    medallion_worker_concurrency: int = 2
    celery_broker_url: SecretStr | None = None
    # Default: Airflow's metadata database with the `db+` prefix (Celery's SQLAlchemy backend).
    celery_result_backend: SecretStr | None = None

    @field_validator("medallion_executor", mode="before")
    @classmethod
    def _executor_kind(cls, value: object) -> str:
        """`local` or `celery`; Airflow's class names (LocalExecutor, CeleryExecutor) are accepted."""
        kind = str(value or "local").strip().lower().removesuffix("executor")
        if kind not in EXECUTOR_KINDS:
            raise ValueError(f"MEDALLION_EXECUTOR must be one of {', '.join(EXECUTOR_KINDS)}, "
                             f"not {value!r}")
        return kind

    @field_validator("medallion_celery_workers", "medallion_worker_concurrency")
    @classmethod
    def _at_least_one(cls, value: int) -> int:
        if value < 1:
            raise ValueError("must be at least 1")
        return value

    @property
    def uses_default_password(self) -> bool:
        """True while AIRFLOW_PASSWORD (the Airflow and console sign-in) is a shipped default."""
        return self.airflow_password.get_secret_value() in DEFAULT_PASSWORDS

    def exposure_problem(self, host: str | None, what: str) -> str | None:
        """Why `what` must not listen on `host` with these settings, or None when it may."""
        if is_loopback(host) or not self.uses_default_password:
            return None
        return (f"{what} would listen on {host or 'every interface'} (reachable from other "
                "machines) while AIRFLOW_PASSWORD is a default; set AIRFLOW_PASSWORD to a strong "
                "password in .env, or keep it on 127.0.0.1")

    @property
    def postgres_password_value(self) -> str:
        return self.postgres_password.get_secret_value()

    @property
    def mongo_uri_value(self) -> str:
        """The MongoDB URI: `MONGO_URI` when set, else built from host and port."""
        if self.mongo_uri is not None and self.mongo_uri.get_secret_value():
            return self.mongo_uri.get_secret_value()
        return f"mongodb://{self.mongo_host}:{self.mongo_port}/?directConnection=true"

    @property
    def mongo_address(self) -> str:
        """host:port of MongoDB for messages, without credentials."""
        parts = urlsplit(self.mongo_uri_value)
        return parts.netloc.rsplit("@", 1)[-1] or f"{self.mongo_host}:{self.mongo_port}"

    @property
    def airflow_port(self) -> int:
        return urlsplit(self.airflow_api_url).port or 8080

    def raw_dir(self) -> Path:
        """RAW_DATA_PATH resolved against the working directory."""
        return self.raw_data_path.expanduser().resolve()

    def sqlalchemy_url(self, database: str | None = None, driver: str = "psycopg") -> str:
        """The only place a PostgreSQL DSN is built (see etl.db)."""
        user = quote_plus(self.postgres_user)
        password = self.postgres_password_value
        auth = f"{user}:{quote_plus(password)}" if password else user
        db = database or self.postgres_db
        return f"postgresql+{driver}://{auth}@{self.postgres_host}:{self.postgres_port}/{db}"

    def libpq_kwargs(self, database: str | None = None) -> dict:
        """Keyword arguments for psycopg.connect / psycopg2.connect."""
        kwargs = {
            "host": self.postgres_host,
            "port": self.postgres_port,
            "dbname": database or self.postgres_db,
            "user": self.postgres_user,
            "connect_timeout": 5,
        }
        if self.postgres_password_value:
            kwargs["password"] = self.postgres_password_value
        return kwargs


def _gold_name(table: str) -> str:
    table = table.strip().lower()
    return table if "." in table else f"gold.{table}"


def parse_max_age_overrides(value: str) -> dict[str, float]:
    """`kpi_summary=2, gold.daily_viewing=30` -> {'gold.kpi_summary': 2.0, ...}; ValueError
    naming GOLD_MAX_AGE_OVERRIDES when an item is not `table=hours` with hours > 0."""
    overrides: dict[str, float] = {}
    for item in (part.strip() for part in (value or "").split(",")):
        if not item:
            continue
        table, sep, hours = item.partition("=")
        try:
            limit = float(hours) if sep and table.strip() else 0.0
        except ValueError:
            limit = 0.0
        if not limit > 0:
            raise ValueError(f"GOLD_MAX_AGE_OVERRIDES: {item!r} is not `table=hours` with hours "
                             "> 0 (e.g. `kpi_summary=2,daily_viewing=30`)")
        overrides[_gold_name(table)] = limit
    return overrides


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; call `reset_settings()` after changing the environment."""
    return Settings()


def reset_settings() -> None:
    """Forget the cached settings (tests and `services up` change the environment)."""
    get_settings.cache_clear()
