"""Helpers shared by the console tests: where the app and its pages are, what the app shows."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "console" / "streamlit_app.py"
PAGES = {
    "overview": "app_pages/overview.py",
    "pipelines": "app_pages/pipelines.py",
    "data_quality": "app_pages/data_quality.py",
    "volumes": "app_pages/volumes.py",
    "gold_kpis": "app_pages/gold_kpis.py",
    "changes": "app_pages/changes.py",
    "lineage": "app_pages/lineage.py",
    "redo": "app_pages/redo.py",
}


def texts(at: AppTest) -> str:
    """Every visible text of the app, for assertions."""
    parts = []
    for kind in ("title", "subheader", "markdown", "caption", "info", "success", "warning",
                 "error", "code"):
        parts.extend(str(e.value) for e in getattr(at, kind))
    parts.extend(f"{m.label} {m.value} {m.delta}" for m in at.metric)
    return "\n".join(parts)


def no_exception(at: AppTest) -> None:
    """Fail with the exception texts when a page raised."""
    assert not at.exception, [e.value for e in at.exception]
