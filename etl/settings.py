"""The one reader of the environment: a frozen, typed settings object.

Variables are those of the original pipeline (POSTGRES_*, MONGO_*, RAW_DATA_PATH,
PROCESSED_DATA_PATH) plus Airflow's API address and credentials. A `.env` file in
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

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent

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
    processed_data_path: Path = Path("data/processed")

    bronze_batch_size: int = 1000
    silver_batch_size: int = 5000
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

    def processed_dir(self) -> Path:
        return self.processed_data_path.expanduser().resolve()

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


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; call `reset_settings()` after changing the environment."""
    return Settings()


def reset_settings() -> None:
    """Forget the cached settings (tests and `services up` change the environment)."""
    get_settings.cache_clear()
