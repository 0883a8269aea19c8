"""Issue 16 on the Overview, Volumes and Data quality pages: anomaly flags (acknowledged,
audited), gold freshness, and the link to what changed since the previous run."""

from __future__ import annotations

import psycopg
import pytest

from tests.support import console_observability_data
from tests.support.console_helpers import no_exception, texts


@pytest.fixture
def observed_db(loaded_db):
    with psycopg.connect(**loaded_db.libpq_kwargs()) as conn:
        console_observability_data.load(conn)
    return loaded_db


def _rows(settings, sql: str, *params) -> list[tuple]:
    with psycopg.connect(**settings.libpq_kwargs()) as conn:
        return conn.execute(sql, params).fetchall()


def _ack_buttons(at):
    return [b for b in at.button if str(b.key).startswith("ack_")]


def test_overview_lists_open_anomalies_one_line_each(observed_db, fake_airflow, open_page):
    at = open_page("overview")
    no_exception(at)
    shown = texts(at)
    assert "3 open" in shown
    assert ("silver.viewing_sessions rows written: 0, below the expected 54 .. 66 "
            "(median 60 of 6 runs)") in shown
    assert "silver.viewing_sessions rejected rows (orphan_user): 3, above" in shown
    assert "gold.kpi_summary" not in shown  # acknowledged: not open
    assert _ack_buttons(at) == []  # reading needs no sign-in, acknowledging does
    assert "Sign in (sidebar) to acknowledge" in shown


def test_acknowledge_closes_the_flag_and_is_audited(observed_db, fake_airflow, open_page):
    at = open_page("overview", signed_in="admin")
    buttons = _ack_buttons(at)
    assert len(buttons) == 3
    [anomaly_id] = [i for (i,) in _rows(observed_db, "select anomaly_id from ops.anomalies "
                                        "where metric = 'quality_score'")]
    at.button(key=f"ack_{anomaly_id}").click().run()
    no_exception(at)
    assert any("Acknowledged: silver quality score" in s.value for s in at.success)
    assert "2 open" in texts(at)
    assert len(_ack_buttons(at)) == 2
    assert _rows(observed_db, "select resolution, resolved_by from ops.anomalies "
                              "where anomaly_id = %s", anomaly_id) == [("acknowledged", "admin")]
    [(actor, action, target, outcome)] = _rows(
        observed_db, "select actor, action, target, outcome from ops.console_audit")
    assert (actor, action, target, outcome) == ("admin", "acknowledge_anomaly",
                                                f"anomaly/{anomaly_id}", "success")


def test_acknowledging_a_closed_flag_fails_and_is_audited(observed_db, fake_airflow):
    from console import operations

    [(anomaly_id,)] = _rows(observed_db, "select anomaly_id from ops.anomalies "
                                         "where resolution = 'acknowledged'")
    result = operations.acknowledge_anomaly("admin", anomaly_id, "gold.kpi_summary rows written")
    assert (result.ok, result.outcome) == (False, "failure")
    assert "already closed" in result.message and result.audit_id is not None


def test_overview_shows_gold_ages_against_their_limit(observed_db, fake_airflow, open_page):
    at = open_page("overview")
    no_exception(at)
    frame = next(df.value for df in at.dataframe if "age / limit" in str(df.proto.columns)
                 or "used" in getattr(df.value, "columns", []))
    frame = getattr(frame, "data", frame)  # a Styler keeps its frame in .data
    states = dict(zip(frame["table"], frame["state"]))
    assert states[console_observability_data.FRESH_TABLE] == "🟢 fresh"
    assert states["gold.kpi_summary"] == "🔴 stale"  # built two days ago, limit 26 h
    assert states["gold.country_insights"] == "🔴 stale"  # never built by a recorded run
    assert set(frame["limit"]) == {"26 h"}
    assert "older than allowed" in texts(at)


def test_overview_links_to_what_changed_since_the_previous_run(observed_db, fake_airflow,
                                                               open_page):
    at = open_page("overview")
    links = [e for e in at.get("page_link")]
    assert links, "no page link on Overview"
    link = links[0].proto
    assert "run-2 → run-3" in link.label
    assert "changes" in link.page
    assert "before=run-2" in link.query_string and "after=run-3" in link.query_string


def _flag_lines(at) -> list[str]:
    return [line for df in at.dataframe if "line" in df.value.columns for line in df.value["line"]]


def test_volumes_shows_rows_written_flags_with_history(observed_db, fake_airflow, open_page):
    at = open_page("volumes")
    no_exception(at)
    lines = _flag_lines(at)
    assert lines == ["silver.viewing_sessions rows written: 0, below the expected 54 .. 66 "
                     "(median 60 of 6 runs)"]
    assert "silver.viewing_sessions rows written · run run-3" in at.selectbox(
        key="volumes_anomaly").format_func(at.selectbox(key="volumes_anomaly").value)
    assert [c for c in at.get("plotly_chart")]  # the series' history with its band
    at.checkbox(key="volumes_all").check().run()
    assert len(_flag_lines(at)) == 2  # the acknowledged gold.kpi_summary flag too
    no_exception(at)


def test_data_quality_shows_score_and_rejection_flags(observed_db, fake_airflow, open_page):
    at = open_page("data_quality")
    no_exception(at)
    lines = _flag_lines(at)
    assert len(lines) == 2
    assert any(line.startswith("silver quality score: 90, below the expected 94 .. 98")
               for line in lines)
    assert any("rejected rows (orphan_user)" in line for line in lines)
