"""Logging set-up for entry points only (CLI, console); modules just getLogger(__name__)."""

from __future__ import annotations

import logging
import os


def configure(level: str | int | None = None) -> None:
    """Route logs to stderr in one readable format; idempotent."""
    level = level or os.environ.get("MEDALLION_LOG_LEVEL", "INFO")
    root = logging.getLogger()
    if any(getattr(h, "_medallion", False) for h in root.handlers):
        root.setLevel(level)
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler._medallion = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("soda", "pymongo", "urllib3", "httpx", "py4j"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
