"""Redo work (issue 16 item 4): full refresh, re-ingest of a sub-folder confined to
RAW_DATA_PATH, re-run of a failed run; signed in, audited, followed until finished."""

from __future__ import annotations

from datetime import datetime, timezone

import psycopg
import pytest

from console import operations
from etl.settings import reset_settings
from tests.support.console_helpers import no_exception, texts

SILVER = "dag_4_data_transformer_silver"
INGEST = "dag_2_data_ingesters"
RUN_ID = "manual__2026-11-26T18:00:00+00:00"


def audit_rows(settings) -> list[tuple]:
    with psycopg.connect(**settings.libpq_kwargs()) as conn:
        return conn.execute("select actor, action, target, params, outcome, detail "
                            "from ops.console_audit order by audit_id").fetchall()


@pytest.fixture
def raw_root(tmp_path, monkeypatch):
    root = tmp_path / "raw"
    (root / "batch-1").mkdir(parents=True)
    (root / "batch-2" / "late").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.setenv("RAW_DATA_PATH", str(root))
    reset_settings()
    yield root
    reset_settings()


@pytest.fixture
def airflow(fake_airflow):
    """The fake Airflow, whose triggered runs appear in the run list (queued, no task yet)."""
    original = fake_airflow.trigger

    def trigger(dag_id, conf):
        run = original(dag_id, conf)
        now = datetime.now(timezone.utc)
        fake_airflow.runs[dag_id].insert(0, {
            "dag_run_id": run["dag_run_id"], "state": "queued", "run_type": "manual",
            "run_after": now, "start_date": now, "end_date": None, "duration_seconds": None,
            "conf": conf, "triggered_by": "admin"})
        return run

    fake_airflow.trigger = trigger
    return fake_airflow


def _state(fake, dag_id: str, run_id: str, state: str) -> None:
    next(r for r in fake.runs[dag_id] if r["dag_run_id"] == run_id)["state"] = state


def test_needs_sign_in(loaded_db, airflow, open_page):
    at = open_page("redo")
    no_exception(at)
    assert "Sign in (sidebar) to redo work" in texts(at)
    assert not [b for b in at.button if str(b.key).startswith("redo_")]


def test_full_refresh_is_sent_audited_and_followed(loaded_db, airflow, open_page):
    at = open_page("redo", signed_in="admin")
    at.button(key="redo_full_refresh").click().run()
    no_exception(at)
    assert airflow.triggered == [(SILVER, {"full_refresh": True})]
    assert any(f"Triggered {SILVER}" in s.value for s in at.success)
    [(actor, action, target, params, outcome, _)] = audit_rows(loaded_db)
    assert (actor, action, target, outcome) == ("admin", "full_refresh", SILVER, "success")
    assert params == {"conf": {"full_refresh": True}}
    assert "Checks Airflow every" in texts(at)
    assert any("is ⏳ queued" in p.proto.text for p in at.get("progress"))
    _state(airflow, SILVER, RUN_ID, "running")
    at.run()
    assert any("is 🏃 running" in p.proto.text for p in at.get("progress"))
    _state(airflow, SILVER, RUN_ID, "success")
    at.run()
    no_exception(at)
    assert any("Full refresh finished" in s.value and "success" in s.value for s in at.success)
    assert "Checks Airflow every" not in texts(at)
    at.button(key="redo_forget").click().run()
    assert "Progress" not in [h.value for h in at.subheader]


def test_reingest_of_a_folder_inside_raw_data_path(loaded_db, airflow, raw_root, open_page):
    at = open_page("redo", signed_in="admin")
    assert "`batch-2/late`" in texts(at)
    at.text_input(key="reingest_dir").input("batch-2/late")
    at.button(key="redo_reingest").click().run()
    no_exception(at)
    assert airflow.triggered == [(INGEST, {"raw_dir": "batch-2/late"})]
    [(_, action, target, params, outcome, _)] = audit_rows(loaded_db)
    assert (action, target, outcome) == ("reingest", INGEST, "success")
    _state(airflow, INGEST, RUN_ID, "failed")
    at.run()
    assert any("finished" in e.value and "failed" in e.value for e in at.error)


@pytest.mark.parametrize("folder, reason", [
    ("../elsewhere", "outside RAW_DATA_PATH"),
    ("/etc", "outside RAW_DATA_PATH"),
    ("batch-9", "is not a folder inside RAW_DATA_PATH"),
])
def test_reingest_outside_raw_data_path_is_not_sent(folder, reason, loaded_db, airflow,
                                                   raw_root, open_page):
    at = open_page("redo", signed_in="admin")
    at.text_input(key="reingest_dir").input(folder)
    at.button(key="redo_reingest").click().run()
    no_exception(at)
    assert airflow.triggered == []
    assert any(reason in w.value for w in at.warning)
    [(_, action, _, _, outcome, detail)] = audit_rows(loaded_db)
    assert (action, outcome) == ("reingest", "rejected") and reason in detail


def test_confine_raw_dir(raw_root):
    assert operations.confine_raw_dir("") is None
    assert operations.confine_raw_dir(".") is None
    assert operations.confine_raw_dir("batch-1") == "batch-1"
    assert operations.confine_raw_dir(str(raw_root / "batch-2" / "late")) == "batch-2/late"
    (raw_root / "escape").symlink_to(raw_root.parent / "elsewhere")
    with pytest.raises(Exception, match="outside RAW_DATA_PATH"):
        operations.confine_raw_dir("escape")
    assert operations.raw_subfolders() == ["batch-1", "batch-2", "batch-2/late"]


def test_rerun_failed_clears_and_follows(loaded_db, airflow, open_page):
    at = open_page("redo", signed_in="admin")
    at.selectbox(key="redo_dag").select(SILVER).run()
    failed_run = airflow.runs[SILVER][0]["dag_run_id"]
    assert at.selectbox(key="redo_run").value == failed_run
    assert "`check_silver`" in texts(at)
    at.button(key="redo_rerun").click().run()
    no_exception(at)
    assert ("clear_failed", SILVER, failed_run) in airflow.calls
    [(_, action, target, params, outcome, _)] = audit_rows(loaded_db)
    assert (action, target, outcome) == ("clear_failed", f"{SILVER}/{failed_run}", "success")
    _state(airflow, SILVER, failed_run, "success")
    at.run()
    assert any("Re-run finished" in s.value for s in at.success)


def test_rerun_refused_by_airflow_is_a_failure_and_not_followed(loaded_db, airflow, open_page):
    at = open_page("redo", signed_in="admin")
    at.selectbox(key="redo_dag").select(SILVER).run()
    airflow.refuse_actions = True
    at.button(key="redo_rerun").click().run()
    no_exception(at)
    assert any("refused by fake" in e.value for e in at.error)
    assert "Progress" not in [h.value for h in at.subheader]
    [(_, _, _, _, outcome, _)] = audit_rows(loaded_db)
    assert outcome == "failure"


def test_no_failed_run_means_nothing_to_rerun(loaded_db, airflow, open_page):
    at = open_page("redo", signed_in="admin")
    at.selectbox(key="redo_dag").select(INGEST).run()
    no_exception(at)
    assert "No failed run among the last 5 runs" in texts(at)
