"""Shared page furniture: loading with plain outage messages, formatting, the sidebar."""

from __future__ import annotations

import logging
import math
from datetime import datetime, timezone
from typing import Any, Callable, TypeVar

import pandas as pd
import streamlit as st

from console import auth
from console.data import reader
from console.airflow_api import AirflowRequestFailed, AirflowUnavailable
from etl.settings import get_settings

log = logging.getLogger(__name__)

T = TypeVar("T")
_SHOWN = "_console_errors_shown"

STATE_ICONS = {
    "success": "✅", "failed": "❌", "running": "🏃", "queued": "⏳", "up_for_retry": "🔁",
    "upstream_failed": "⛔", "skipped": "⏭️", "removed": "🗑️", "scheduled": "🗓️",
    "restarting": "🔁", "deferred": "💤", "none": "⚪", "pass": "✅", "warn": "⚠️",
    "fail": "❌", "error": "💥", "loaded": "✅", "rejected": "❌", "skipped_duplicate": "♻️",
    "ignored": "➖",
}


def start_run() -> None:
    """Forget which outage messages were shown (called once per run and per fragment run)."""
    st.session_state[_SHOWN] = set()


def load(fn: Callable[..., T], *args, **kwargs) -> T | None:
    """Call a data or Airflow loader; on an outage say so plainly (once) and return None."""
    try:
        return fn(*args, **kwargs)
    except reader.DataUnavailable as exc:
        # the reason names the database's host, port and user: for signed-in eyes only
        reason = str(exc) if auth.can_see_details() else (
            "The console cannot read its database; sign in (sidebar) to see why.")
        _show_once("db", f"🗄️ **Database unavailable.** {reason}", st.error,
                   logged=f"Database unavailable. {exc}")
    except AirflowUnavailable as exc:
        _show_once("airflow", f"🌀 **Airflow unavailable.** {exc} "
                              "The database views below still work.", st.warning)
    except AirflowRequestFailed as exc:
        _show_once(f"airflow:{exc}", f"🌀 **Airflow refused the request.** {exc}", st.error)
    return None


def _show_once(key: str, message: str, show: Callable[[str], Any],
               logged: str | None = None) -> None:
    shown = st.session_state.setdefault(_SHOWN, set())
    if key not in shown:
        shown.add(key)
        show(message)
    log.warning("%s", logged or message)


def icon(state: str | None) -> str:
    """An emoji for a run, task, check or file state."""
    return STATE_ICONS.get("none" if _missing(state) else str(state).lower(), "•")


def with_icon(state: str | None) -> str:
    """'✅ success' for a state; '⚪ no run' when there is none."""
    return "⚪ no run" if _missing(state) else f"{icon(state)} {state}"


# ------------------------------------------------------------------ formatting

def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or \
        (not isinstance(value, (str, dict, list)) and pd.isna(value))


def fmt_int(value) -> str:
    """1,234 or an en dash."""
    return "–" if _missing(value) else f"{int(value):,}"


def fmt_num(value, digits: int = 1, suffix: str = "") -> str:
    """1,234.5 (with a suffix) or an en dash."""
    return "–" if _missing(value) else f"{float(value):,.{digits}f}{suffix}"


_UNITS = ((1e3, "K", 1), (1e6, "M", 2), (1e9, "B", 2), (1e12, "T", 2))  # scale, unit, decimals
COMPACT_FROM = 10_000  # below this a number fits a tile as it is


def compact_number(value, digits: int = 0, suffix: str = "") -> str:
    """A number short enough for a metric tile: 4.94M, 500.1K, 9,876, 87.5 (or an en dash).

    From COMPACT_FROM up: thousands with one decimal, millions and more with two, trailing
    zeros dropped (5M, not 5.00M). Below it, the value with `digits` decimals. Rounding
    that reaches the next unit moves up to it (999,999 is 1M, never 1000K).
    """
    if _missing(value):
        return "–"
    number = float(value)
    if abs(number) < COMPACT_FROM:
        return f"{number:,.{digits}f}{suffix}"
    index = max(i for i, (scale, _, _) in enumerate(_UNITS) if abs(number) >= scale)
    scale, unit, decimals = _UNITS[index]
    scaled = round(number / scale, decimals)
    if abs(scaled) >= 1000 and index + 1 < len(_UNITS):
        scale, unit, decimals = _UNITS[index + 1]
        scaled = round(number / scale, decimals)
    text = f"{scaled:,.{decimals}f}".rstrip("0").rstrip(".")
    return f"{text}{unit}{suffix}"


def exact_number(value, digits: int = 0, suffix: str = "") -> str:
    """The full value with thousands separators, for a tile's hover text."""
    return "–" if _missing(value) else f"{float(value):,.{digits}f}{suffix}"


def metric(label: str, value, *, digits: int = 0, suffix: str = "", help: str | None = None,
           container=None, **kwargs) -> None:
    """An st.metric whose value is compact (never cut off) and whose hover text starts
    with the exact value. `value` is a number (or None); text values pass through as they
    are. Extra keyword arguments go to st.metric (border defaults to True)."""
    target = container or st
    kwargs.setdefault("border", True)
    if isinstance(value, str):
        target.metric(label, value, help=help, **kwargs)
        return
    shown = compact_number(value, digits, suffix)
    exact = exact_number(value, digits, suffix)
    hover = f"Exact value: {exact}" if shown != exact else None
    if help:
        hover = f"{hover}. {help}" if hover else help
    target.metric(label, shown, help=hover, **kwargs)


def fmt_duration(seconds) -> str:
    """'2 h 05 min', '3 min 07 s', '4.2 s' or an en dash."""
    if _missing(seconds):
        return "–"
    seconds = float(seconds)
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    return f"{hours // 24} d {hours % 24} h"


def fmt_ago(moment) -> str:
    """'5 min ago', '3 h ago', '2 d ago' for a UTC timestamp, or an en dash."""
    if _missing(moment):
        return "–"
    moment = pd.Timestamp(moment)
    if moment.tzinfo is None:
        moment = moment.tz_localize("UTC")
    delta = (datetime.now(timezone.utc) - moment.to_pydatetime()).total_seconds()
    if delta < 60:
        return "just now"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if delta >= size * (2 if unit == "d" else 1):
            return f"{int(delta // size)} {unit} ago"
    return "just now"


def fmt_time(moment) -> str:
    """'2026-11-26 17:55 UTC' or an en dash."""
    if _missing(moment):
        return "–"
    moment = pd.Timestamp(moment)
    if moment.tzinfo is None:
        moment = moment.tz_localize("UTC")
    return moment.tz_convert("UTC").strftime("%Y-%m-%d %H:%M UTC")


# ------------------------------------------------------------------ charts and tables

def chart(fig, key: str | None = None) -> None:
    """A plotly figure in the house layout."""
    fig.update_layout(template="plotly_white", margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      legend={"orientation": "h", "y": -0.2}, height=340,
                      font={"family": "sans-serif"})
    st.plotly_chart(fig, width="stretch", key=key, config={"displaylogo": False})


def chart_or_empty(frame: pd.DataFrame | None, draw: Callable[[pd.DataFrame], Any], *,
                   key: str, empty_message: str) -> None:
    """The chart `draw(frame)` makes, or `empty_message` when `frame` has no row; nothing
    when it did not load (None: `load` has already said why)."""
    if frame is None:
        return
    if frame.empty:
        empty(empty_message)
    else:
        chart(draw(frame), key=key)


def table(frame: pd.DataFrame, **kwargs) -> None:
    """A dataframe without its index."""
    st.dataframe(frame, hide_index=True, width="stretch", **kwargs)


def show_result(result) -> None:
    """An action's outcome (console.actions.ActionResult) and where it was audited."""
    show = st.success if result.ok else (st.warning if result.outcome == "rejected" else st.error)
    show(("✅ " if result.ok else "⚠️ ") + result.message)
    if result.audit_id is not None:
        st.caption(f"Recorded in the audit log as #{result.audit_id}.")
    else:
        st.error(f"🗄️ The action was not written to the audit log: {result.audit_error}")


def empty(message: str) -> None:
    """A plain note for a section with no data yet."""
    st.info(f"ℹ️ {message}")


# ------------------------------------------------------------------ sidebar

def sidebar() -> None:
    """Refresh, sign-in and where the console points (never a secret)."""
    settings = get_settings()
    with st.sidebar:
        if st.button("🔄 Refresh data", width="stretch"):
            reader.clear_caches()
            st.rerun()
        if auth.can_see_details():
            st.caption(f"Database `{settings.postgres_host}:{settings.postgres_port}/"
                       f"{settings.postgres_db}` · Airflow `{settings.airflow_api_url}`")
        st.divider()
        st.markdown("**Operator sign-in**")
        st.caption("Needed for trigger, pause and clear.")
        auth.sign_in_form("sidebar_sign_in")
