"""The checks on the real pipeline: generated dirty data, ingested and transformed end to end.

Dirty input that the contract handles (rejected rows, a rejected file) must not trip a
critical check; a broken foreign key in silver must trip exactly that one and the gate.
"""

from __future__ import annotations

import pytest

from etl import db, pipeline, quality, synth
from etl.errors import QualityGateFailed

pytestmark = pytest.mark.integration

READABLE_USERS = "Every users file of the latest ingestion run was readable"
USER_FK = "Every session's user_id exists in silver.users"


def test_generated_dirty_data_passes_and_a_broken_foreign_key_trips_the_gate(medallion_db, raw_dir):
    synth.generate(raw_dir, users=120, sessions=900, contents=40, days=20, seed=7, dirty_rate=0.1)
    (raw_dir / "users_truncated.csv").write_text("user_id,email\nu1,a@b.co\n", encoding="utf-8")

    report = pipeline.run(raw_dir, settings=medallion_db, run_id="gen-1")

    with db.connect(medallion_db) as conn:
        rejected_rows = conn.execute(
            "select (select count(*) from silver.users_rejected)"
            " + (select count(*) from silver.viewing_sessions_rejected)"
            " + (select count(*) from silver.content_rejected)").fetchone()[0]
        results = conn.execute(
            "select layer, check_name, outcome from ops.dq_check_results where run_id = 'gen-1'"
        ).fetchall()
        scores = dict(conn.execute(
            "select layer, score from ops.dq_scores where run_id = 'gen-1'").fetchall())
    assert report.status == "success"
    assert rejected_rows > 10  # the dirt reached the contract and was handled
    not_passed = [(layer, name, outcome) for layer, name, outcome in results if outcome != "pass"]
    assert not_passed == [("bronze", READABLE_USERS, "warn")]
    assert scores["silver"] == scores["gold"] == 100.0
    assert 0 < scores["bronze"] < 100

    with db.connect(medallion_db) as conn, conn.transaction():
        conn.execute("alter table silver.viewing_sessions drop constraint if exists "
                     "viewing_sessions_user_id_fkey")
        conn.execute("update silver.viewing_sessions set user_id = 'ghost' "
                     "where session_id = (select min(session_id) from silver.viewing_sessions)")

    with pytest.raises(QualityGateFailed) as raised:
        quality.run_checks("silver", run_id="gen-2", gate=True, settings=medallion_db)
    assert USER_FK in str(raised.value)
    with db.connect(medallion_db) as conn:
        failing = conn.execute(
            "select check_name, is_critical, measured_value from ops.dq_check_results "
            "where run_id = 'gen-2' and outcome <> 'pass'").fetchall()
    assert failing == [(USER_FK, True, 1.0)]
