"""Pipelines page actions through AppTest: sign-in, success and failure paths, audit rows."""

import json

import psycopg
import pytest

from tests.support.console_helpers import no_exception, texts

DAG = "dag_2_data_ingesters"
SILVER = "dag_4_data_transformer_silver"


def audit_rows(settings) -> list[dict]:
    with psycopg.connect(**settings.libpq_kwargs()) as conn:
        cur = conn.execute("select actor, action, target, params, outcome, detail "
                           "from ops.console_audit order by audit_id")
        names = [d.name for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]


def select_dag(at, dag_id):
    at.selectbox(key="dag").select(dag_id).run()
    return at


def test_actions_need_sign_in(loaded_db, fake_airflow, open_page):
    at = open_page("pipelines")
    no_exception(at)
    assert "Sign in (sidebar) to trigger" in texts(at)
    assert not [b for b in at.button if b.key in ("trigger_submit", "pause_toggle", "clear_failed")]
    assert audit_rows(loaded_db) == []


def test_sign_in_with_wrong_then_right_password(loaded_db, fake_airflow, open_page, monkeypatch):
    monkeypatch.setenv("AIRFLOW_USERNAME", "ops")
    monkeypatch.setenv("AIRFLOW_PASSWORD", "s3cret-pass")
    from etl.settings import reset_settings
    reset_settings()
    at = open_page("pipelines")
    at.text_input(key="sidebar_sign_in_user").input("ops")
    at.text_input(key="sidebar_sign_in_password").input("wrong")
    at.button(key="FormSubmitter:sidebar_sign_in-Sign in").click().run()
    assert any("Sign-in refused" in e.value for e in at.error)
    assert "console_user" not in at.session_state
    at.text_input(key="sidebar_sign_in_user").input("ops")
    at.text_input(key="sidebar_sign_in_password").input("s3cret-pass")
    at.button(key="FormSubmitter:sidebar_sign_in-Sign in").click().run()
    no_exception(at)
    assert at.session_state["console_user"] == "ops"
    assert "s3cret-pass" not in texts(at)
    assert at.button(key="trigger_submit")


def test_page_shows_runs_tasks_and_log(loaded_db, fake_airflow, open_page):
    at = select_dag(open_page("pipelines", signed_in="admin"), SILVER)
    no_exception(at)
    runs = fake_airflow.runs[SILVER]
    assert at.selectbox(key="run").value == runs[0]["dag_run_id"]
    tasks = next(df.value for df in at.dataframe if "task_id" in df.value.columns)
    assert dict(zip(tasks["task_id"], tasks["state"]))["check_silver"] == "❌ failed"
    assert dict(zip(tasks["task_id"], tasks["try"]))["check_silver"] == "4 / 4"
    at.selectbox(key="log_task").select("check_silver").run()
    assert "starting check_silver" in at.code[0].value
    assert "done try 4" in at.code[0].value
    assert ("log_tail", SILVER, runs[0]["dag_run_id"], "check_silver", 4) in fake_airflow.calls


def test_trigger_with_valid_params_is_sent_and_audited(loaded_db, fake_airflow, open_page):
    at = select_dag(open_page("pipelines", signed_in="admin"), DAG)
    conf = at.text_area(key=f"trigger_conf_{DAG}")
    assert json.loads(conf.value) == {"raw_dir": None, "full_refresh": False}
    conf.input('{"raw_dir": "data/raw/batch-7", "full_refresh": true}')
    at.button(key="trigger_submit").click().run()
    no_exception(at)
    assert fake_airflow.triggered == [(DAG, {"raw_dir": "data/raw/batch-7", "full_refresh": True})]
    assert any("Triggered dag_2_data_ingesters" in s.value for s in at.success)
    [row] = audit_rows(loaded_db)
    assert row["actor"] == "admin" and row["action"] == "trigger" and row["target"] == DAG
    assert row["outcome"] == "success"
    assert row["params"] == {"conf": {"raw_dir": "data/raw/batch-7", "full_refresh": True}}
    audit = at.dataframe[-1].value
    assert list(audit["outcome"]) == ["✅ success"]


@pytest.mark.parametrize("conf_text, reason", [
    ('{"full_refresh": "yes"}', "must be boolean"),
    ('{"raw_dir": "x", "drop_tables": true}', "unknown param"),
    ('["not", "an", "object"]', "must be a JSON object"),
    ('{"raw_dir": ', "not valid JSON"),
])
def test_invalid_trigger_params_are_not_sent(conf_text, reason, loaded_db, fake_airflow, open_page):
    at = select_dag(open_page("pipelines", signed_in="admin"), DAG)
    at.text_area(key=f"trigger_conf_{DAG}").input(conf_text)
    at.button(key="trigger_submit").click().run()
    no_exception(at)
    assert fake_airflow.triggered == []
    assert any(reason in w.value for w in at.warning)
    [row] = audit_rows(loaded_db)
    assert row["outcome"] == "rejected" and reason in row["detail"]


def test_trigger_refused_by_airflow_is_a_failure(loaded_db, fake_airflow, open_page):
    at = select_dag(open_page("pipelines", signed_in="admin"), DAG)
    fake_airflow.refuse_actions = True
    at.button(key="trigger_submit").click().run()
    no_exception(at)
    assert any("409 Conflict" in e.value for e in at.error)
    [row] = audit_rows(loaded_db)
    assert (row["action"], row["outcome"]) == ("trigger", "failure")
    assert "409" in row["detail"]


def test_pause_and_unpause(loaded_db, fake_airflow, open_page):
    at = select_dag(open_page("pipelines", signed_in="admin"), DAG)
    assert at.button(key="pause_toggle").label == "⏸️ Pause DAG"
    at.button(key="pause_toggle").click().run()
    no_exception(at)
    assert fake_airflow.paused[DAG] is True
    assert any("is now paused" in s.value for s in at.success)
    assert at.button(key="pause_toggle").label == "▶️ Unpause DAG"
    at.button(key="pause_toggle").click().run()
    assert fake_airflow.paused[DAG] is False
    rows = audit_rows(loaded_db)
    assert [(r["action"], r["outcome"]) for r in rows] == [("pause", "success"), ("unpause", "success")]


def test_pause_failure_when_airflow_goes_down(loaded_db, fake_airflow, open_page):
    at = select_dag(open_page("pipelines", signed_in="admin"), DAG)
    fake_airflow.calls.clear()

    def broken(dag_id, paused):
        from console.airflow_api import AirflowUnavailable
        raise AirflowUnavailable("Airflow at http://fake:8080 is unreachable: connection refused.")

    fake_airflow.set_paused = broken
    at.button(key="pause_toggle").click().run()
    no_exception(at)
    assert any("unreachable" in e.value for e in at.error)
    [row] = audit_rows(loaded_db)
    assert (row["action"], row["outcome"]) == ("pause", "failure")


def test_clear_failed_tasks(loaded_db, fake_airflow, open_page):
    at = select_dag(open_page("pipelines", signed_in="admin"), SILVER)
    run_id = fake_airflow.runs[SILVER][0]["dag_run_id"]
    button = at.button(key="clear_failed")
    assert not button.disabled
    button.click().run()
    no_exception(at)
    assert ("clear_failed", SILVER, run_id) in fake_airflow.calls
    assert any("Cleared 3 task(s)" in s.value for s in at.success)
    [row] = audit_rows(loaded_db)
    assert row["target"] == f"{SILVER}/{run_id}" and row["outcome"] == "success"
    assert row["params"] == {"task_ids": ["build_gold", "check_gold", "check_silver"]}


def test_clear_failed_refused(loaded_db, fake_airflow, open_page):
    at = select_dag(open_page("pipelines", signed_in="admin"), SILVER)
    fake_airflow.refuse_actions = True
    at.button(key="clear_failed").click().run()
    no_exception(at)
    assert any("refused by fake" in e.value for e in at.error)
    [row] = audit_rows(loaded_db)
    assert (row["action"], row["outcome"]) == ("clear_failed", "failure")


def test_clear_is_disabled_without_failed_tasks(loaded_db, fake_airflow, open_page):
    at = select_dag(open_page("pipelines", signed_in="admin"), DAG)
    assert at.button(key="clear_failed").disabled


def test_trigger_is_disabled_when_params_cannot_be_read(loaded_db, fake_airflow, open_page):
    from console.airflow_api import AirflowRequestFailed

    def refused(dag_id):
        raise AirflowRequestFailed("Airflow answered 403 Forbidden to get_dag_details: no")

    fake_airflow.dag_params = refused
    at = select_dag(open_page("pipelines", signed_in="admin"), DAG)
    no_exception(at)
    assert at.button(key="trigger_submit").disabled
    assert any("403" in e.value for e in at.error)
