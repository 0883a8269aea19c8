"""Putting the process environment back after a test changed it."""

from __future__ import annotations

import os

from etl.settings import reset_settings


def restore_environ(saved: dict[str, str | None]) -> None:
    """Set each variable back to its saved value (None: unset) and forget cached settings."""
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    reset_settings()
