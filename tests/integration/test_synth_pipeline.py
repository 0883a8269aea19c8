"""Generated dirty data through the whole pipeline: silver is exactly what the generator promises.

`etl.synth.generate` writes files with every kind of dirt the contract handles and says
what silver must make of them (`GenerateReport.expected`: rows kept, superseded and
rejected per reason, per entity) and how many of each defect it wrote
(`GenerateReport.dirt`; for users and content, field defects sit only on the surviving
version of a key, so each one is one null or `unknown` in silver). `etl.pipeline.run`
with the checks on must match all of it exactly, and no critical Soda check may fail on
data that is dirty but handled by the contract.
"""

from __future__ import annotations

import pytest

from etl import db, pipeline, synth

pytestmark = pytest.mark.integration

RUN_ID = "synth-pipeline-1"
ENTITIES = ("users", "content", "viewing_sessions")

# dirt key -> the silver condition each such defect produces, on the surviving row.
USER_OUTCOMES = {
    "invalid_email": "email is null",
    "invalid_signup_date": "signup_date is null",
    "invalid_country": "country is null",
    "invalid_birth_year": "birth_year is null",
    "unknown_tier": "subscription_tier = 'unknown'",
}
CONTENT_OUTCOMES = {
    "invalid_duration": "duration_min is null",
    "title_not_string": "title is null",
    "unknown_type": "content_type = 'unknown'",
    "invalid_release_year": "release_year is null",
    "invalid_rating": "imdb_rating is null",
}
# Conditions no defect produces: clean rows never give them.
NEVER = {
    "users": ["full_name is null", "updated_at is null", "user_id <> btrim(user_id)"],
    "content": ["maturity_rating is null", "updated_at is null"],
    "viewing_sessions": ["watch_seconds < 0", "device not in ('mobile', 'tv', 'web', 'tablet', 'other')"],
}


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    raw = tmp_path_factory.mktemp("synth-raw")
    report = synth.generate(raw, users=400, sessions=5000, contents=150, days=45, seed=2026,
                            dirty_rate=0.08)
    assert report.other_files == []
    return report


def _count(conn, query: str, *params) -> int:
    return conn.execute(query, params).fetchone()[0]


def test_generated_data_is_accounted_for_exactly(medallion_db, generated):
    report = pipeline.run(generated.out, settings=medallion_db, run_id=RUN_ID, checks=True)
    assert report.status == "success"

    with db.connect(medallion_db) as conn:
        accounting = {r[0]: r[1:] for r in conn.execute(
            "select entity, bronze_rows, silver_rows, superseded_rows, rejected_rows, "
            "rejected_by_reason from ops.entity_accounting where run_id = %s", (RUN_ID,))}
        silver = {e: _count(conn, f"select count(*) from silver.{e}") for e in ENTITIES}  # noqa: S608
        rejected = {e: dict(conn.execute(
            f"select reason, count(*) from silver.{e}_rejected group by reason").fetchall())  # noqa: S608
            for e in ENTITIES}
        bronze = {e: _count(conn, f"select count(*) from bronze.{e}") for e in ENTITIES}  # noqa: S608
        log = dict(conn.execute("select source_file, rows_loaded from ops.ingestion_log "
                                "where status = 'loaded'").fetchall())
        statuses = dict(conn.execute("select source_file, status from ops.ingestion_log").fetchall())

    # Every file as written: loaded with its rows, the note ignored.
    for f in generated.files:
        if f.entity is None:
            assert statuses.get(f.path) == "ignored", f.path
        else:
            assert log.get(f.path) == f.rows, (f.path, log.get(f.path), f.rows)

    for entity in ENTITIES:
        exp = generated.expected[entity]
        assert exp.bronze_rows == exp.silver_rows + exp.superseded_rows + exp.rejected_rows
        assert bronze[entity] == exp.bronze_rows, entity
        assert accounting[entity] == (exp.bronze_rows, exp.silver_rows, exp.superseded_rows,
                                      exp.rejected_rows, exp.rejected), entity
        assert silver[entity] == exp.silver_rows, entity
        assert rejected[entity] == exp.rejected, entity
    # The dirt was there to be handled: every session rejection reason occurs.
    assert set(generated.expected["viewing_sessions"].rejected) == {
        "missing_key", "invalid_timestamp", "invalid_measure", "negative_duration",
        "orphan_user", "orphan_content"}


def test_field_defects_become_exactly_the_promised_nulls(medallion_db, generated):
    pipeline.run(generated.out, settings=medallion_db, run_id=RUN_ID, checks=False)
    dirt = generated.dirt

    with db.connect(medallion_db) as conn:
        for entity, outcomes in (("users", USER_OUTCOMES), ("content", CONTENT_OUTCOMES)):
            for kind, condition in outcomes.items():
                assert dirt[entity].get(kind, 0) > 0, f"the generator wrote no {entity}.{kind}"
                found = _count(conn, f"select count(*) from silver.{entity} where {condition}")  # noqa: S608
                assert found == dirt[entity][kind], (entity, kind, condition, found)
        # Each invalid rating is invalid in both of its fields.
        assert _count(conn, "select count(*) from silver.content where votes is null") == \
            dirt["content"]["invalid_rating"]
        for entity, conditions in NEVER.items():
            for condition in conditions:
                assert _count(conn, f"select count(*) from silver.{entity} where {condition}") == 0, \
                    (entity, condition)  # noqa: S608

        sessions = dirt["viewing_sessions"]
        device_other = _count(conn, "select count(*) from silver.viewing_sessions where device = 'other'")
        derived = _count(conn, """
            select count(*) from silver.viewing_sessions s
            join bronze.viewing_sessions b using (ingestion_id, source_row)
            where btrim(b.watch_seconds) = '' and s.watch_seconds >= 0""")
        shifted = _count(conn, """
            select count(*) from silver.viewing_sessions s
            join bronze.viewing_sessions b using (ingestion_id, source_row)
            where left(btrim(b.started_at), 10) <> to_char(s.started_at at time zone 'UTC', 'YYYY-MM-DD')""")
        noisy_ids = _count(conn, """
            select count(*) from silver.viewing_sessions s
            join bronze.viewing_sessions b using (ingestion_id, source_row)
            where b.session_id <> s.session_id""")
    for kind in ("device_other", "derived_watch_seconds", "utc_date_shifted", "whitespace_case_noise"):
        assert sessions.get(kind, 0) > 0, f"the generator wrote no viewing_sessions.{kind}"
    assert device_other == sessions["device_other"]
    assert derived == sessions["derived_watch_seconds"]
    assert shifted == sessions["utc_date_shifted"]
    assert noisy_ids == sessions["whitespace_case_noise"]


def test_no_critical_check_fails_on_dirty_but_handled_data(medallion_db, generated):
    pipeline.run(generated.out, settings=medallion_db, run_id=RUN_ID, checks=True)

    with db.connect(medallion_db) as conn:
        results = conn.execute(
            "select layer, table_name, check_name, outcome, is_critical from ops.dq_check_results "
            "where run_id = %s", (RUN_ID,)).fetchall()
        scores = {r[0]: r[1:] for r in conn.execute(
            "select layer, score, checks_total, checks_fail, critical_failures from ops.dq_scores "
            "where run_id = %s", (RUN_ID,))}
    assert {r[0] for r in results} == {"bronze", "silver", "gold"}
    critical = [r for r in results if r[4]]
    assert critical, "no critical check ran: the gate would prove nothing"
    assert [r for r in critical if r[3] != "pass"] == []
    assert [r for r in results if r[3] in ("fail", "error")] == []
    assert set(scores) == {"bronze", "silver", "gold"}
    for layer, (score, total, failed, critical_failures) in scores.items():
        assert total > 0 and failed == 0 and critical_failures == 0, layer
        assert score == 100.0, (layer, score, [r for r in results if r[0] == layer and r[3] != "pass"])
