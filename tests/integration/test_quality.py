"""etl.quality against the real PostgreSQL: the worked example written into every layer.

Scans are slow-ish, so each test shares one or two scans across its assertions.
"""

from __future__ import annotations

import pytest

from etl import cli, db, quality
from etl.errors import QualityGateFailed
from tests.support import dq_dataset as dataset

pytestmark = pytest.mark.integration

READABLE_USERS = "Every users file of the latest ingestion run was readable"
SILVER_USER_UNIQUE = "Every user_id in silver.users is unique"
GOLD_NO_NEGATIVE = "No negative measure in gold.user_engagement"
BRONZE_NOT_EMPTY = "No bronze.users row is completely empty"


@pytest.fixture
def worked_db(medallion_db):
    """A fresh database holding the worked example in bronze, silver, gold and ops."""
    with db.connect(medallion_db) as conn:
        dataset.load(conn)
    return medallion_db


def _query(settings, sql, params=()):
    with db.connect(settings) as conn:
        return conn.execute(sql, params).fetchall()


def _formula(checks) -> float:
    """The score written out independently: 100 × Σ w·credit / Σ w."""
    credit = {"pass": 1.0, "warn": 0.5, "fail": 0.0}
    scored = [c for c in checks if c.outcome in credit]
    return 100 * sum(c.weight * credit[c.outcome] for c in scored) / sum(c.weight for c in scored)


def _by_name(result):
    return {c.name: c for c in result.checks}


def test_clean_layers_pass_and_scores_follow_the_formula(worked_db, capsys):
    bronze = quality.run_checks("bronze", run_id="r1", settings=worked_db)
    silver = quality.run_checks("silver", run_id="r1", settings=worked_db)

    # Bronze: the rejected file of the run only warns; everything else passes.
    outcomes = {c.name: c.outcome for c in bronze.checks}
    assert outcomes.pop(READABLE_USERS) == "warn"
    assert set(outcomes.values()) == {"pass"}
    assert bronze.critical_failures == []
    warned = _by_name(bronze)[READABLE_USERS]
    assert warned.value == 1 and not warned.critical
    assert [r["source_file"] for r in warned.failed_rows] == ["users_broken.csv"]
    assert bronze.score == pytest.approx(_formula(bronze.checks))
    total = sum(c.weight for c in bronze.checks)
    assert bronze.score == pytest.approx(100 * (total - 0.5 * warned.weight) / total)
    assert bronze.counts == {"total": len(bronze.checks), "pass": len(bronze.checks) - 1,
                             "warn": 1, "fail": 0, "error": 0}

    # Silver: the rejected rows are the contract at work, so every check passes.
    assert [c.name for c in silver.checks if c.outcome != "pass"] == []
    assert silver.score == 100.0
    critical = {c.name for c in silver.checks if c.critical}
    assert SILVER_USER_UNIQUE in critical
    assert "Every session's user_id exists in silver.users" in critical
    assert any("accounting row adds up" in name for name in critical)
    assert not _by_name(silver)["Birth years lie between 1900 and the current year"].critical

    # Gold through the CLI: `medallion check --layer gold` prints the score, exits 0.
    assert cli.main(["check", "--layer", "gold"]) == 0
    out = capsys.readouterr().out
    assert "gold: score 100.0/100" in out

    # Everything was persisted: one row per check, the score equals the formula in SQL.
    rows = _query(worked_db, """
        select layer, count(*), count(*) filter (where is_critical),
               100 * sum(weight * case outcome when 'pass' then 1 when 'warn' then 0.5 else 0 end)
                   / sum(weight)
        from ops.dq_check_results where run_id = 'r1' group by layer order by layer""")
    assert [(r[0], r[1]) for r in rows] == [("bronze", len(bronze.checks)),
                                           ("silver", len(silver.checks))]
    scores = dict(_query(worked_db, "select layer, score from ops.dq_scores where run_id = 'r1'"))
    assert scores == {"bronze": pytest.approx(float(rows[0][3])), "silver": 100.0}
    assert _query(worked_db, """
        select checks_total, checks_pass, checks_warn, checks_fail, critical_failures
        from ops.dq_scores where run_id = 'r1' and layer = 'bronze'""") == [
        (len(bronze.checks), len(bronze.checks) - 1, 1, 0, 0)]
    (dimension, weight, thresholds, table), = _query(worked_db, """
        select dimension, weight, thresholds, table_name from ops.dq_check_results
        where run_id = 'r1' and check_name = %s""", (READABLE_USERS,))
    assert (dimension, weight, table) == ("validity", 1.0, "bronze.users")
    assert "warn: when > 0" in thresholds
    gold_runs = _query(worked_db, "select run_id, score from ops.dq_scores where layer = 'gold'")
    assert len(gold_runs) == 1 and gold_runs[0][1] == 100.0

    # History: a second scan under a new run id adds rows; a retry of r1 replaces its own.
    quality.run_checks("silver", run_id="r2", tables=["silver.users"], settings=worked_db)
    quality.run_checks("silver", run_id="r2", tables=["silver.users"], settings=worked_db)
    history = _query(worked_db, """
        select run_id, count(*) from ops.dq_check_results where layer = 'silver'
        group by run_id order by run_id""")
    users_checks = sum(1 for c in silver.checks if c.table == "silver.users")
    assert history == [("r1", len(silver.checks)), ("r2", users_checks)]
    assert _query(worked_db, "select run_id, score from ops.dq_scores where layer = 'silver' "
                             "order by run_id") == [("r1", 100.0), ("r2", 100.0)]


def test_duplicate_silver_key_fails_only_uniqueness_and_trips_the_gate(worked_db):
    # A dedup bug: the superseded first version of u1 also survives. Its lineage and the
    # accounting agree (nothing superseded), so only key uniqueness can notice.
    with db.connect(worked_db) as conn, conn.transaction():
        conn.execute("alter table silver.users drop constraint users_pkey")
        conn.execute("""insert into silver.users
            select 'u1', 'ana@example.com', 'Ana Lima', 'BR', date '2024-01-05', 'premium', 1990,
                   timestamptz '2024-01-05T10:00:00Z', ingestion_id, source_file, 1
            from silver.users where user_id = 'u1'""")
        conn.execute("""update ops.entity_accounting set silver_rows = 3, superseded_rows = 0
                        where entity = 'users'""")

    with pytest.raises(QualityGateFailed) as raised:
        quality.run_checks("silver", run_id="dup", gate=True, settings=worked_db)
    message = str(raised.value)
    assert "1 critical silver check(s) failed" in message
    assert f"silver.users: {SILVER_USER_UNIQUE} (measured 1)" in message
    assert "dup" in message

    # Persisted before raising: exactly that check failed, the score lost exactly its weight.
    results = _query(worked_db, """
        select check_name, outcome, weight, is_critical from ops.dq_check_results
        where run_id = 'dup'""")
    failed = [(name, weight, critical) for name, outcome, weight, critical in results
              if outcome != "pass"]
    assert failed == [(SILVER_USER_UNIQUE, 3.0, True)]
    total = sum(weight for _, _, weight, _ in results)
    (score, fails, criticals), = _query(worked_db, """
        select score, checks_fail, critical_failures from ops.dq_scores
        where run_id = 'dup' and layer = 'silver'""")
    assert score == pytest.approx(100 * (total - 3) / total)
    assert (fails, criticals) == (1, 1)
    (samples,), = _query(worked_db, """
        select count(*) from ops.dq_failed_rows f join ops.dq_check_results r using (result_id)
        where r.run_id = 'dup' and r.check_name = %s""", (SILVER_USER_UNIQUE,))
    assert 1 <= samples <= quality.SAMPLE_LIMIT


def test_negative_gold_metric_fails_only_its_check(worked_db):
    with db.connect(worked_db) as conn, conn.transaction():
        conn.execute("update gold.user_engagement set avg_session_minutes = -30.5 "
                     "where user_id = 'u2'")

    result = quality.run_checks("gold", run_id="neg", settings=worked_db)  # no gate: returns

    failed = [c for c in result.checks if c.outcome != "pass"]
    assert [(c.name, c.table, c.critical, c.value) for c in failed] == [
        (GOLD_NO_NEGATIVE, "gold.user_engagement", True, 1.0)]
    assert result.critical_failures == failed
    assert [row["user_id"] for row in failed[0].failed_rows] == ["u2"]
    total = sum(c.weight for c in result.checks)
    assert result.score == pytest.approx(100 * (total - failed[0].weight) / total)
    assert f"CRITICAL FAIL gold.user_engagement: {GOLD_NO_NEGATIVE}" in result.format()
    (row_data,), = _query(worked_db, """
        select f.row_data from ops.dq_failed_rows f join ops.dq_check_results r using (result_id)
        where r.run_id = 'neg'""")
    assert row_data["avg_session_minutes"] == -30.5
    # Soda's own connection is closed: nothing left idle in transaction, holding locks.
    assert _query(worked_db, """
        select count(*) from pg_stat_activity
        where datname = current_database() and state like 'idle in transaction%%'""", ()) == [(0,)]


def test_failed_row_samples_are_capped(worked_db):
    # 25 empty rows from an unlogged ingestion: only the "completely empty" check sees them.
    with db.connect(worked_db) as conn, conn.transaction():
        conn.execute("""insert into bronze.users (user_id, email, full_name, country, signup_date,
                            subscription_tier, birth_year, updated_at, ingestion_id,
                            source_file, source_row)
                        select '', '', '', '', '', '', '', ' ', 99, 'empty.csv', n
                        from generate_series(1, 25) as n""")

    result = quality.run_checks("bronze", run_id="cap", tables=["bronze.users"], settings=worked_db)

    failed = [c for c in result.checks if c.outcome == "fail"]
    assert [(c.name, c.value) for c in failed] == [(BRONZE_NOT_EMPTY, 25.0)]
    assert len(failed[0].failed_rows) == quality.SAMPLE_LIMIT == 20
    (stored,), = _query(worked_db, """
        select count(*) from ops.dq_failed_rows f join ops.dq_check_results r using (result_id)
        where r.run_id = 'cap' and r.check_name = %s""", (BRONZE_NOT_EMPTY,))
    assert stored == 20


def test_scan_error_publishes_no_score_and_says_why(worked_db):
    with db.connect(worked_db) as conn, conn.transaction():
        conn.execute("drop table gold.kpi_summary")

    with pytest.raises(quality.QualityScanError) as raised:
        quality.run_checks("gold", run_id="broken", tables=["gold.kpi_summary"],
                           settings=worked_db)

    assert "no score was published" in str(raised.value)
    assert "kpi_summary" in str(raised.value)
    assert _query(worked_db, "select * from ops.dq_scores where run_id = 'broken'") == []


def test_identity_counts_bronze_as_the_transform_saw_it(worked_db):
    insert = """insert into bronze.users (user_id, email, full_name, country, signup_date,
                    subscription_tier, birth_year, updated_at, ingestion_id, source_file,
                    source_row, ingestion_timestamp)
                values ('u7', '', '', '', '', '', '', '', 2, 'users.csv', %s,
                        (select max(measured_at) from ops.entity_accounting) + %s::interval)"""
    matches = "The latest users accounting row matches the bronze, silver and rejected tables"

    # A file loaded after the transform (while the scan runs) is the next transform's.
    with db.connect(worked_db) as conn, conn.transaction():
        conn.execute(insert, (5, "1 minute"))
    later = quality.run_checks("silver", run_id="later", tables=["silver.users"],
                               settings=worked_db)
    assert [c.name for c in later.checks if c.outcome != "pass"] == []

    # A bronze row that was there before the transform but reached neither silver nor
    # the rejected table breaks the identity: critical.
    with db.connect(worked_db) as conn, conn.transaction():
        conn.execute(insert, (6, "-1 minute"))
    missed = quality.run_checks("silver", run_id="missed", tables=["silver.users"],
                                settings=worked_db)
    failed = [c for c in missed.checks if c.outcome != "pass"]
    assert [(c.name, c.critical) for c in failed] == [(matches, True)]
    assert failed[0].failed_rows[0]["recorded_bronze"] == 4
    assert failed[0].failed_rows[0]["bronze_rows"] == 5
