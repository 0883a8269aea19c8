"""Incremental transforms on the real PostgreSQL (issue 13): each semantic a naive
"process only new rows" gets wrong, and after every run the tables equal a full refresh of
the same bronze (tests.support.incremental.assert_equals_full_refresh)."""

from __future__ import annotations

import shutil

import pytest
from tests.support.incremental import assert_equals_full_refresh, model_runs, state
from tests.support.transform import fetch, load_bronze, load_worked_example

from etl import sql_runner
from etl.transform import transform


def _session(session_id, user_id, content_id, started_at, watch_seconds, device="tv", ended_at=""):
    return {"session_id": session_id, "user_id": user_id, "content_id": content_id,
            "started_at": started_at, "ended_at": ended_at, "watch_seconds": str(watch_seconds),
            "device": device}


def _one(settings, query, params=()):
    rows = fetch(settings, query, params)
    assert len(rows) == 1, rows
    return rows[0]


@pytest.fixture
def example(medallion_db):
    """The worked example, built once (a full refresh: the models' first run)."""
    load_worked_example(medallion_db)
    transform(run_id="first")
    assert {r["mode"] for r in model_runs(medallion_db, "first").values()} == {"full"}
    return medallion_db


def _run(settings, run_id):
    transform(run_id=run_id)
    runs = model_runs(settings, run_id)
    assert {r["mode"] for r in runs.values()} == {"incremental"}, runs
    return runs


def test_a_file_sorting_before_holds_versions_that_lose(example):
    # "viewing_sessions.csv" holds s1 (4200 s); "a_sessions/..." sorts before it
    load_bronze(example, "viewing_sessions", "a/viewing_sessions.csv", [
        _session("s1", "u1", "10", "2024-03-01T20:00:00Z", 1),
        _session("s8", "u1", "11", "2024-03-05T20:00:00Z", 60)])
    _run(example, "inc")
    assert _one(example, "select watch_seconds from silver.viewing_sessions "
                         "where session_id = 's1'")["watch_seconds"] == 4200
    assert _one(example, "select watch_seconds from gold.fact_viewing "
                         "where session_id = 's8'")["watch_seconds"] == 60
    # the a/ row of s1 is superseded: one more superseded row than before
    assert_equals_full_refresh(example)
    # and a file sorting after wins
    load_bronze(example, "viewing_sessions", "z/viewing_sessions.csv", [
        _session(" s1 ", "u1", "10", "2024-03-01T20:00:00Z", 7)])
    _run(example, "inc2")
    assert _one(example, "select watch_seconds from gold.fact_viewing "
                         "where session_id = 's1'")["watch_seconds"] == 7
    assert_equals_full_refresh(example)


def test_newer_updated_at_wins_whatever_the_path_and_older_loses_even_last(example):
    # u1 is BR/standard as of 2024-03-01 (minus 2 h). An older version arriving last loses.
    load_bronze(example, "users", "z_users.csv", [
        {"user_id": "u1", "country": "PT", "subscription_tier": "free",
         "updated_at": "2024-02-01T00:00:00Z"}])
    _run(example, "older")
    assert _one(example, "select country, subscription_tier from silver.users "
                         "where user_id = 'u1'") == {"country": "BR", "subscription_tier": "standard"}
    assert_equals_full_refresh(example)
    # A newer one in a file sorting before every other wins, and moves u1's facts.
    load_bronze(example, "users", "0_users.csv", [
        {"user_id": "u1", "country": "pt", "subscription_tier": "Basic",
         "updated_at": "2024-06-01T00:00:00Z"}])
    _run(example, "newer")
    assert _one(example, "select country, subscription_tier from silver.users "
                         "where user_id = 'u1'") == {"country": "PT", "subscription_tier": "basic"}
    assert {(r["country"], r["subscription_tier"]) for r in fetch(
        example, "select country, subscription_tier from gold.fact_viewing where user_id = 'u1'")} \
        == {("PT", "basic")}
    countries = {r["country"]: r for r in fetch(example, "select * from gold.country_insights")}
    assert "BR" not in countries and countries["PT"]["sessions"] == 2
    assert_equals_full_refresh(example)


def test_a_later_invalid_version_replaces_a_valid_one(example):
    load_bronze(example, "viewing_sessions", "viewing_sessions_2.csv", [
        _session("s2", "u1", "11", "not a time", 10)])
    _run(example, "invalid")
    assert fetch(example, "select * from silver.viewing_sessions where session_id = 's2'") == []
    assert fetch(example, "select * from gold.fact_viewing where session_id = 's2'") == []
    assert [r["reason"] for r in fetch(example, "select reason from silver.viewing_sessions_rejected "
                                                "where session_id = 's2'")] == ["invalid_timestamp"]
    assert _one(example, "select sessions from gold.kpi_summary")["sessions"] == 2
    assert _one(example, "select views from gold.content_performance "
                         "where content_id = '11'")["views"] == 0
    assert_equals_full_refresh(example)
    # and a valid version after it brings it back
    load_bronze(example, "viewing_sessions", "viewing_sessions_3.csv", [
        _session("s2", "u1", "11", "2024-03-02T00:00:00Z", 10)])
    _run(example, "valid-again")
    assert fetch(example, "select * from silver.viewing_sessions_rejected "
                          "where session_id = 's2'") == []
    assert _one(example, "select sessions from gold.kpi_summary")["sessions"] == 3
    assert_equals_full_refresh(example)


def test_orphans_come_back_when_their_user_or_content_arrives(example):
    # s5 waits for user u9, s6 for content 12 (worked example)
    reasons = {r["session_id"]: r["reason"] for r in fetch(
        example, "select session_id, reason from silver.viewing_sessions_rejected")}
    assert reasons["s5"] == "orphan_user" and reasons["s6"] == "orphan_content"
    load_bronze(example, "users", "users_2.csv", [{"user_id": " u9 ", "country": "fr",
                                                   "updated_at": "2024-01-01T00:00:00Z"}])
    _run(example, "user-arrives")
    assert _one(example, "select user_id, country from gold.fact_viewing "
                         "where session_id = 's5'") == {"user_id": "u9", "country": "FR"}
    assert_equals_full_refresh(example)
    load_bronze(example, "content", "content_2.json", [
        {"content_id": 12, "title": "Late", "duration_min": 10, "genres": ["comedy"]}])
    _run(example, "content-arrives")
    row = _one(example, "select content_title, primary_genre, completion_pct from gold.fact_viewing "
                        "where session_id = 's6'")
    assert row["content_title"] == "Late" and row["primary_genre"] == "comedy"
    assert row["completion_pct"] == pytest.approx(100 * 100 / 600)
    assert _one(example, "select views from gold.genre_performance "
                         "where genre = 'comedy'")["views"] == 1
    assert fetch(example, "select * from silver.viewing_sessions_rejected "
                          "where session_id in ('s5', 's6')") == []
    assert_equals_full_refresh(example)


def test_a_content_update_ripples_into_every_session_and_group(example):
    before = _one(example, "select completion_pct from gold.fact_viewing where session_id = 's1'")
    assert before["completion_pct"] == pytest.approx(70.0)
    load_bronze(example, "content", "content_2.json", [
        {"content_id": "10", "title": "Night Train II", "content_type": "series",
         "genres": ["Thriller", "Crime"], "duration_min": 50,
         "updated_at": "2024-06-01T00:00:00Z"}])
    _run(example, "content-update")
    s1 = _one(example, "select completion_pct, is_completed, content_title, content_type, "
                       "primary_genre from gold.fact_viewing where session_id = 's1'")
    assert s1 == {"completion_pct": 100.0, "is_completed": True, "content_title": "Night Train II",
                  "content_type": "series", "primary_genre": "thriller"}
    assert _one(example, "select completion_pct from silver.viewing_sessions "
                         "where session_id = 's1'")["completion_pct"] == 100.0
    genres = {r["genre"]: r for r in fetch(example, "select * from gold.genre_performance")}
    assert "drama" not in genres and genres["crime"]["views"] == 2
    assert _one(example, "select title from gold.content_performance "
                         "where content_id = '10'")["title"] == "Night Train II"
    assert_equals_full_refresh(example)


def test_new_sessions_move_the_30_day_window(example):
    kpi = _one(example, "select active_users_30d, as_of from gold.kpi_summary")
    assert kpi["active_users_30d"] == 2
    load_bronze(example, "viewing_sessions", "viewing_sessions_2.csv", [
        _session("s9", "u2", "11", "2024-04-03T00:00:00Z", 60)])
    _run(example, "window")
    kpi = _one(example, "select active_users_30d, as_of from gold.kpi_summary")
    assert kpi["active_users_30d"] == 1 and kpi["as_of"].isoformat() == "2024-04-03T00:00:00+00:00"
    assert_equals_full_refresh(example)


def test_nothing_new_changes_nothing_and_the_identity_holds(example):
    before = assert_equals_full_refresh(example)
    runs = _run(example, "nothing")
    assert all(r["status"] == "success" and r["rows_changed"] == 0 for r in runs.values()), runs
    assert state(example)["accounting"] == before["accounting"]
    assert {k: v for k, v in state(example).items()} == before
    recorded = fetch(example, "select count(*) as n from ops.entity_accounting "
                              "where run_id = 'nothing'")
    assert recorded == [{"n": 3}]


def test_a_changed_model_file_rebuilds_it_and_what_reads_it(example, tmp_path, monkeypatch):
    changed = tmp_path / "sql"
    shutil.copytree(sql_runner.SQL_DIR / "silver", changed / "silver")
    shutil.copytree(sql_runner.SQL_DIR / "gold", changed / "gold")
    path = changed / "gold" / "user_engagement.sql"
    path.write_text(path.read_text() + "\n-- a comment is a change too\n")
    monkeypatch.setattr(sql_runner, "SQL_DIR", changed)
    transform(run_id="changed")
    modes = {m: r["mode"] for m, r in model_runs(example, "changed").items()}
    assert modes == {"silver.users": "incremental", "silver.content": "incremental",
                     "silver.viewing_sessions": "incremental", "gold.fact_viewing": "incremental",
                     "gold.content_performance": "incremental",
                     "gold.daily_viewing": "incremental", "gold.genre_performance": "incremental",
                     "gold.daily_segment_viewing": "incremental",
                     "gold.user_daily_viewing": "incremental",
                     "gold.user_engagement": "full", "gold.country_insights": "full",
                     "gold.kpi_summary": "full"}
    transform(run_id="again")
    assert {r["mode"] for r in model_runs(example, "again").values()} == {"incremental"}
    # a silver-only full refresh leaves gold owing one
    transform(run_id="silver-full", full_refresh=True, layers=("silver",))
    transform(run_id="gold-after", layers=("gold",))
    assert {r["mode"] for r in model_runs(example, "gold-after").values()} == {"full"}
    assert_equals_full_refresh(example)


def test_model_runs_record_mode_rows_read_and_changed(example):
    load_bronze(example, "viewing_sessions", "viewing_sessions_2.csv", [
        _session("s9", "u2", "11", "2024-03-05T00:00:00Z", 60)])
    runs = _run(example, "counted")
    sessions = runs["silver.viewing_sessions"]
    assert sessions["rows_read"] == 1 and sessions["rows_changed"] == 1
    assert runs["gold.fact_viewing"]["rows_changed"] == 1
    assert runs["silver.users"]["rows_read"] == 0 and runs["silver.users"]["rows_changed"] == 0
    # `rows` is still the size of the model's table (the console reads it so)
    for model in ("silver.viewing_sessions", "gold.fact_viewing", "gold.kpi_summary"):
        assert runs[model]["rows"] == fetch(example, f"select count(*) as n from {model}")[0]["n"]
    first = model_runs(example, "first")
    assert first["silver.viewing_sessions"]["rows_read"] == 8
