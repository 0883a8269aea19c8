"""Plotly figures of the console (built from data.py frames; no querying here).

Plotly renders labels, legends, titles and hover text as its own small HTML
(`<b>`, `<a href>`, `<br>`, entities): text that comes from data (titles, names,
run ids) is escaped first (`_text`), so a title like `<b>Big</b> & <script>` is
shown as written and never becomes markup.
"""

from __future__ import annotations

import html

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

STATE_COLORS = {"success": "#2f855a", "failed": "#c53030", "running": "#3182ce",
                "queued": "#a0aec0", "pass": "#2f855a", "warn": "#d69e2e", "fail": "#c53030",
                "error": "#805ad5"}
LAYER_COLORS = {"bronze": "#9c4221", "silver": "#718096", "gold": "#d4a017", "ingest": "#4a5568"}


def _escape(value):
    return html.escape(value, quote=True) if isinstance(value, str) else value


def _text(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with every text value escaped for Plotly's markup."""
    texts = [c for c in frame.columns if pd.api.types.is_object_dtype(frame[c])
             or pd.api.types.is_string_dtype(frame[c])]
    return frame.assign(**{c: frame[c].map(_escape) for c in texts}) if texts else frame


def run_durations(runs: pd.DataFrame, title: str) -> go.Figure:
    """Duration per run (bars colored by state) with the median as a dashed line."""
    title = _escape(title)
    frame = _text(runs).dropna(subset=["duration_seconds"]).sort_values("run_after")
    # One bar per run, evenly spaced: runs are events, not a continuous time axis.
    frame = frame.assign(run=pd.to_datetime(frame["run_after"], utc=True)
                         .dt.strftime("%m-%d %H:%M:%S"))
    fig = px.bar(frame, x="run", y="duration_seconds", color="state",
                 color_discrete_map=STATE_COLORS, hover_data=["dag_run_id"], title=title,
                 labels={"duration_seconds": "seconds"})
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=frame["run"].tolist())
    if not frame.empty:
        median = float(frame["duration_seconds"].median())
        fig.add_hline(y=median, line_dash="dash", line_color="#1f2933",
                      annotation_text=f"median {median:.1f} s", annotation_position="top left")
    return fig


def scores_over_time(history: pd.DataFrame) -> go.Figure:
    """Quality score per layer over time."""
    fig = px.line(_text(history), x="measured_at", y="score", color="layer", markers=True,
                  color_discrete_map=LAYER_COLORS, title="Quality score per layer",
                  labels={"measured_at": "measured", "score": "score (0-100)"})
    fig.update_yaxes(range=[0, 101])
    return fig


def check_history(history: pd.DataFrame, title: str) -> go.Figure:
    """Measured value of one check over time, points colored by outcome."""
    return px.scatter(_text(history), x="measured_at", y="measured_value", color="outcome",
                      color_discrete_map=STATE_COLORS, title=_escape(title),
                      labels={"measured_at": "measured", "measured_value": "value"})


def _run_label(moments: pd.Series) -> pd.Series:
    return pd.to_datetime(moments, utc=True).dt.strftime("%m-%d %H:%M:%S")


def layer_rows(history: pd.DataFrame) -> go.Figure:
    """Rows written per layer, one group of bars per run (runs are events, not a time axis)."""
    frame = _text(history).sort_values("started_at").assign(run=lambda f: _run_label(f["started_at"]))
    fig = px.bar(frame, x="run", y="rows", color="layer", barmode="group",
                 color_discrete_map=LAYER_COLORS, title="Rows written per layer, per run",
                 hover_data=["run_id"])
    fig.update_xaxes(type="category")
    return fig


def table_rows(history: pd.DataFrame, runs: int = 6) -> go.Figure:
    """Rows per table (model) in the latest transform runs, one bar per run."""
    latest = history.sort_values("run_started_at")["run_started_at"].drop_duplicates().tail(runs)
    frame = _text(history)[history["run_started_at"].isin(latest)].sort_values(["run_started_at", "model"])
    frame = frame.assign(run=_run_label(frame["run_started_at"]))
    fig = px.bar(frame, x="rows", y="model", color="run", barmode="group", orientation="h",
                 title=f"Rows per table (model), latest {runs} runs", hover_data=["run_id"],
                 color_discrete_sequence=["#e2c275", "#d4a017", "#b7791f", "#9c4221", "#718096",
                                          "#2c5282"], labels={"model": ""})
    return fig


def funnel(frame: pd.DataFrame) -> go.Figure:
    """Where each entity's bronze rows went: silver, superseded, rejected by reason."""
    fig = px.bar(_text(frame), x="rows", y="entity", color="outcome", orientation="h",
                 title="Bronze rows → silver / superseded / rejected",
                 color_discrete_map={"silver": "#718096", "superseded": "#cbd5e0"})
    fig.update_layout(barmode="stack")
    return fig


def latency(history: pd.DataFrame) -> go.Figure:
    """End-to-end latency and duration per run."""
    long = _text(history).melt(id_vars=["run_id", "started_at"],
                        value_vars=["latency_seconds", "duration_seconds"],
                        var_name="measure", value_name="seconds").dropna(subset=["seconds"])
    return px.line(long, x="started_at", y="seconds", color="measure", markers=True,
                   title="Latency (file landed → gold built) and run duration",
                   labels={"started_at": "run started"})


def stage_times(frame: pd.DataFrame) -> go.Figure:
    """Seconds per stage, stacked per run."""
    fig = px.bar(_text(frame), x="run_id", y="seconds", color="stage", title="Time per stage",
                 color_discrete_map=LAYER_COLORS)
    fig.update_layout(barmode="stack")
    fig.update_xaxes(type="category")
    return fig


def model_times(frame: pd.DataFrame, title: str) -> go.Figure:
    """Seconds per model of one run."""
    frame = _text(frame).sort_values("duration_seconds")
    return px.bar(frame, x="duration_seconds", y="model", color="layer", orientation="h",
                  color_discrete_map=LAYER_COLORS, title=_escape(title),
                  labels={"duration_seconds": "seconds"})


def daily_viewing(frame: pd.DataFrame) -> go.Figure:
    """Watch hours per day, stacked by device."""
    fig = px.bar(_text(frame), x="session_date", y="total_watch_hours", color="device",
                 title="Daily watch hours by device", hover_data=["sessions", "unique_users"],
                 color_discrete_sequence=["#b7791f", "#d4a017", "#718096", "#2c5282", "#a0aec0"],
                 labels={"session_date": "day", "total_watch_hours": "watch hours"})
    fig.update_layout(barmode="stack", bargap=0.15)
    return fig


def top_content(frame: pd.DataFrame, measure: str, title: str) -> go.Figure:
    """Horizontal bars of the top titles."""
    frame = _text(frame.assign(label=frame["title"].fillna(frame["content_id"])))
    fig = px.bar(frame.iloc[::-1], x=measure, y="label", orientation="h", title=title,
                 hover_data=["content_id", "content_type"],
                 labels={"label": "", "total_watch_hours": "watch hours"})
    fig.update_traces(marker_color="#d4a017")
    return fig


def genres(frame: pd.DataFrame) -> go.Figure:
    """Watch hours per genre, colored by average completion."""
    return px.bar(_text(frame), x="genre", y="total_watch_hours", color="avg_completion_pct",
                  color_continuous_scale=["#f6e05e", "#9c4221"], title="Genre performance",
                  labels={"total_watch_hours": "watch hours", "avg_completion_pct": "avg completion %"})


def countries(frame: pd.DataFrame) -> go.Figure:
    """Watch hours per country."""
    fig = px.bar(_text(frame.head(20)), x="country", y="total_watch_hours", title="Watch hours by country",
                 hover_data=["sessions", "active_users"], labels={"total_watch_hours": "watch hours"})
    fig.update_traces(marker_color="#b7791f")
    return fig


def segments(frame: pd.DataFrame) -> go.Figure:
    """Users per engagement segment."""
    return px.pie(_text(frame), names="segment", values="users", hole=0.5, title="User segments",
                  color="segment", color_discrete_map={"heavy": "#b7791f", "regular": "#d4a017",
                                                       "light": "#f6e05e", "inactive": "#e2e8f0"})


def anomaly_history(points: pd.DataFrame, flag: dict) -> go.Figure:
    """One series' values per run with the flagged run's expected band and the flag marked."""
    frame = points.assign(run=points["run_id"].astype(str))
    fig = go.Figure(go.Scatter(x=frame["run"], y=frame["value"], mode="lines+markers",
                               name="value", line={"color": "#4a5568"}))
    fig.add_hrect(y0=flag["lower_bound"], y1=flag["upper_bound"], fillcolor="#2f855a",
                  opacity=0.12, line_width=0, annotation_text="expected",
                  annotation_position="top left")
    fig.add_hline(y=flag["baseline_median"], line_dash="dot", line_color="#2f855a")
    flagged = frame[frame["run_id"] == flag["run_id"]]
    if not flagged.empty:
        fig.add_trace(go.Scatter(x=flagged["run"], y=flagged["value"], mode="markers",
                                 name="flagged", marker={"color": "#c53030", "size": 13,
                                                         "symbol": "x"}))
    fig.update_xaxes(type="category", title="run")
    fig.update_layout(title=flag["label"], height=260)
    return fig
