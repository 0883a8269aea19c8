"""Console security (issue 12): lockout, idle sessions, sign-in records, personal data,
the audit failing closed, escaped chart text, and no public address with a default password."""

from __future__ import annotations

import psycopg
import pytest
from streamlit.testing.v1 import AppTest

from console import auth, charts
from tests.support.console_helpers import APP, no_exception, texts
from etl.settings import reset_settings

EMAIL = "jane.doe@example.com"
FULL_NAME = "Jane Q. Doe"
DAG = "dag_2_data_ingesters"
SIGN_IN = "FormSubmitter:sidebar_sign_in-Sign in"


class FakeClock:
    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(auth, "clock", fake)
    return fake


@pytest.fixture
def credentials(monkeypatch):
    monkeypatch.setenv("AIRFLOW_USERNAME", "ops")
    monkeypatch.setenv("AIRFLOW_PASSWORD", "s3cret-pass")
    reset_settings()
    yield
    reset_settings()


def _rows(settings, query: str) -> list[dict]:
    with psycopg.connect(**settings.libpq_kwargs()) as conn:
        cur = conn.execute(query)
        names = [d.name for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]


def _try(at: AppTest, user: str, password: str) -> AppTest:
    at.text_input(key="sidebar_sign_in_user").input(user)
    at.text_input(key="sidebar_sign_in_password").input(password)
    at.button(key=SIGN_IN).click().run()
    return at


def _everything(at: AppTest) -> str:
    return texts(at) + "\n".join(df.value.to_string() for df in at.dataframe)


# ------------------------------------------------------------------ lockout (unit, own clock)

def test_lockout_grows_and_a_success_forgets():
    now = FakeClock(0.0)
    guard = auth.SignInGuard(clock=now)
    for _ in range(4):
        assert guard.failure("admin") == 0
    assert guard.locked_for("admin") == 0
    assert guard.failure("admin") == 60  # the fifth in a row
    assert guard.locked_for("admin") == 60
    assert guard.locked_for("ops") == 0  # per user name
    now.now = 59
    assert guard.locked_for("admin") == 1
    now.now = 60
    assert guard.locked_for("admin") == 0
    assert guard.failure("admin") == 120  # doubling
    now.now = 200
    assert guard.failure("admin") == 240
    for _ in range(10):
        now.now += 5000
        seconds = guard.failure("admin")
    assert seconds == auth.MAX_LOCKOUT_SECONDS  # capped
    guard.success("admin")
    assert guard.locked_for("admin") == 0 and guard.failures("admin") == 0


def test_lockout_forgets_old_failures_and_bounds_memory():
    now = FakeClock(0.0)
    guard = auth.SignInGuard(clock=now, max_names=10)
    for _ in range(4):
        guard.failure("admin")
    now.now = auth.FORGET_SECONDS + 1
    assert guard.failure("admin") == 0 and guard.failures("admin") == 1
    for i in range(50):
        guard.failure(f"sprayed-{i}")
    assert len(guard._names) <= 10


# ------------------------------------------------------------------ lockout and records (AppTest)

def test_lockout_survives_new_sessions_and_is_recorded(loaded_db, fake_airflow, open_page,
                                                       credentials, clock):
    at = open_page("pipelines")
    for _ in range(auth.MAX_FAILURES):
        _try(at, "ops", "wrong")
    assert any("locked for 60 s" in e.value for e in at.error)
    # a reload is a new browser session: still locked, even with the right password
    fresh = _try(open_page("pipelines"), "ops", "s3cret-pass")
    no_exception(fresh)
    assert "console_user" not in fresh.session_state
    assert any("Too many failed sign-ins" in e.value for e in fresh.error)
    # another user name is not locked
    other = _try(open_page("pipelines"), "someone", "x")
    assert any(e.value == "Sign-in refused: wrong user or password." for e in other.error)
    clock.now += 61
    after = _try(open_page("pipelines"), "ops", "s3cret-pass")
    no_exception(after)
    assert after.session_state["console_user"] == "ops"
    rows = _rows(loaded_db, "select user_name, client_address, outcome, failures, locked_until "
                            "from ops.console_signins order by signin_id")
    assert [(r["user_name"], r["outcome"]) for r in rows] == (
        [("ops", "refused")] * 5 + [("ops", "locked"), ("someone", "refused"), ("ops", "success")])
    assert {r["client_address"] for r in rows} == {"localhost"}  # AppTest has no remote peer
    assert [r["failures"] for r in rows[:5]] == [1, 2, 3, 4, 5]
    assert rows[4]["locked_until"] is not None and rows[3]["locked_until"] is None


def test_refused_sign_in_records_the_client_address(loaded_db, fake_airflow, open_page,
                                                    credentials, monkeypatch):
    monkeypatch.setattr(auth, "client_address", lambda: ("203.0.113.9", "198.51.100.7"))
    _try(open_page("overview"), "ops", "guess")
    [row] = _rows(loaded_db, "select user_name, client_address, forwarded_for, outcome "
                             "from ops.console_signins")
    assert row == {"user_name": "ops", "client_address": "203.0.113.9",
                   "forwarded_for": "198.51.100.7", "outcome": "refused"}


def test_signed_in_session_expires_when_idle(loaded_db, fake_airflow, open_page, credentials,
                                             clock, monkeypatch):
    monkeypatch.setenv("CONSOLE_SESSION_IDLE_MINUTES", "30")
    reset_settings()
    at = _try(open_page("pipelines"), "ops", "s3cret-pass")
    assert at.button(key="trigger_submit")
    clock.now += 29 * 60
    at.run()
    assert at.session_state["console_user"] == "ops"  # active: the idle time starts again
    clock.now += 29 * 60
    at.run()
    assert at.session_state["console_user"] == "ops"
    clock.now += 31 * 60
    at.run()
    no_exception(at)
    assert "console_user" not in at.session_state
    assert not [b for b in at.button if b.key == "trigger_submit"]
    assert any("Signed out after 30 min" in i.value for i in at.info)


# ------------------------------------------------------------------ personal data

@pytest.fixture
def personal_db(loaded_db):
    with psycopg.connect(**loaded_db.libpq_kwargs()) as conn:
        conn.execute("update ops.dq_failed_rows set row_data = row_data || %s::jsonb",
                     (f'{{"email": "{EMAIL}", "full_name": "{FULL_NAME}"}}',))
    return loaded_db


def test_anonymous_readers_see_no_personal_data(personal_db, fake_airflow, open_page):
    at = open_page("data_quality")
    no_exception(at)
    shown = _everything(at)
    assert EMAIL not in shown and FULL_NAME not in shown
    samples = at.dataframe[-1].value
    assert set(samples["email"]) == {auth.HIDDEN}
    assert list(samples["session_id"]) == ["s001", "s001"]  # the rest stays visible
    assert personal_db.postgres_db not in shown  # no database coordinates either


def test_signed_in_readers_see_personal_data(personal_db, fake_airflow, open_page):
    at = open_page("data_quality", signed_in="admin")
    no_exception(at)
    assert EMAIL in _everything(at) and FULL_NAME in _everything(at)
    assert personal_db.postgres_db in texts(at)  # the sidebar names the database


def test_operator_may_open_details_to_everyone(personal_db, fake_airflow, open_page, monkeypatch):
    monkeypatch.setenv("CONSOLE_PUBLIC_DETAILS", "true")
    reset_settings()
    at = open_page("data_quality")
    assert EMAIL in _everything(at)
    reset_settings()


def test_task_logs_need_a_sign_in(loaded_db, fake_airflow, open_page):
    at = open_page("pipelines")
    no_exception(at)
    assert not at.code and "Sign in (sidebar) to read task logs" in texts(at)
    assert not [c for c in fake_airflow.calls if c[0] == "log_tail"]
    signed = open_page("pipelines", signed_in="admin")
    assert signed.code and "starting" in signed.code[0].value


def test_database_coordinates_need_a_sign_in_when_it_is_down(medallion_db, fake_airflow,
                                                             open_page):
    from stack.services import free_port

    import os

    port, original = str(free_port()), os.environ.get("POSTGRES_PORT")
    os.environ["POSTGRES_PORT"] = port  # undone here: the database's teardown needs the real one
    reset_settings()
    try:
        anonymous = open_page("overview")
        [error] = [e.value for e in anonymous.error]
        assert "Database unavailable" in error and port not in error and "sign in" in error
        signed = open_page("overview", signed_in="admin")
        assert any(port in e.value for e in signed.error)
    finally:
        if original is None:
            os.environ.pop("POSTGRES_PORT", None)
        else:
            os.environ["POSTGRES_PORT"] = original
        reset_settings()


# ------------------------------------------------------------------ the audit fails closed

def _break_audit(settings) -> None:
    with psycopg.connect(**settings.libpq_kwargs()) as conn:
        conn.execute("""
            create function ops.refuse_audit() returns trigger language plpgsql as $$
            begin raise exception 'audit storage is read-only'; end $$;
            create trigger refuse_audit before insert on ops.console_audit
                for each row execute function ops.refuse_audit();""")


@pytest.mark.parametrize("button", ["trigger_submit", "pause_toggle"])
def test_no_action_without_its_audit_row(button, loaded_db, fake_airflow, open_page):
    _break_audit(loaded_db)
    at = open_page("pipelines", signed_in="admin")
    at.selectbox(key="dag").select(DAG).run()
    fake_airflow.calls.clear()
    at.button(key=button).click().run()
    no_exception(at)
    assert fake_airflow.triggered == [] and fake_airflow.paused[DAG] is False
    assert not [c for c in fake_airflow.calls if c[0] in ("trigger", "set_paused", "clear_failed")]
    errors = " ".join(e.value for e in at.error)
    assert "was not sent to Airflow" in errors and "audit storage is read-only" in errors


def test_audit_row_is_written_before_the_action_and_closed_after(loaded_db, fake_airflow,
                                                                 open_page):
    seen_during_call = []
    original = fake_airflow.trigger

    def trigger(dag_id, conf):
        seen_during_call.extend(_rows(loaded_db, "select action, outcome from ops.console_audit"))
        return original(dag_id, conf)

    fake_airflow.trigger = trigger
    at = open_page("pipelines", signed_in="admin")
    at.selectbox(key="dag").select(DAG).run()
    at.button(key="trigger_submit").click().run()
    no_exception(at)
    assert seen_during_call == [{"action": "trigger", "outcome": "pending"}]
    [row] = _rows(loaded_db, "select outcome, detail, finished_at from ops.console_audit")
    assert row["outcome"] == "success" and "Triggered" in row["detail"]
    assert row["finished_at"] is not None


# ------------------------------------------------------------------ chart text is escaped

def test_titles_from_data_are_escaped_in_charts():
    import pandas as pd

    frame = pd.DataFrame({
        "content_id": ["c1", "c2", "c3"],
        "title": ["<b>Bold</b> move", "<script>alert(1)</script>", "Tom & Jerry"],
        "content_type": ["movie", "<i>series</i>", "movie"],
        "views": [3, 2, 1]})
    fig = charts.top_content(frame, "views", "Top <b>titles</b>")
    labels = list(fig.data[0].y)
    assert "&lt;b&gt;Bold&lt;/b&gt; move" in labels
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in labels
    assert "Tom &amp; Jerry" in labels
    assert not any("<" in label for label in labels)
    hover = [str(v) for row in fig.data[0].customdata for v in row]
    assert "&lt;i&gt;series&lt;/i&gt;" in hover and "<i>" not in " ".join(hover)
    history = pd.DataFrame({"measured_at": pd.to_datetime(["2026-01-01"]),
                            "measured_value": [1.0], "outcome": ["fail"]})
    assert charts.check_history(history, "<img src=x onerror=alert(1)>").layout.title.text \
        == "&lt;img src=x onerror=alert(1)&gt;"


# ------------------------------------------------------------------ exposure

def test_console_refuses_a_public_address_with_the_default_password(loaded_db, fake_airflow,
                                                                    monkeypatch):
    from streamlit import config

    monkeypatch.setenv("AIRFLOW_PASSWORD", "admin")
    reset_settings()
    before = config.get_option("server.address")
    config.set_option("server.address", "0.0.0.0")
    try:
        at = AppTest.from_file(str(APP), default_timeout=60)
        at.run()
        assert any("refuses to serve" in e.value and "AIRFLOW_PASSWORD" in e.value
                   for e in at.error)
        assert not at.metric and not at.dataframe
        monkeypatch.setenv("AIRFLOW_PASSWORD", "c0rrect-h0rse")
        reset_settings()
        at = AppTest.from_file(str(APP), default_timeout=60)
        at.run()
        assert not at.error and at.metric
    finally:
        config.set_option("server.address", before)
        reset_settings()
