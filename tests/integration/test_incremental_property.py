"""Property: whatever sequence of increments lands, an incremental transform after each one
gives exactly the tables of a full refresh of the same bronze (row checksums, table by
table, and the accounting). The base is `medallion generate` output (etl.synth); the
increments are random: new sessions (some orphans, some later in time), re-sent sessions
(changed, invalid, moved to other users), user and content updates (newer, older, undated,
new keys), in files whose paths sort before, between or after the existing ones."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest
from tests.support.incremental import assert_equals_full_refresh, model_runs
from tests.support.transform import fetch, load_bronze

from etl import synth
from etl.ingest import ingest
from etl.transform import transform

PREFIXES = ["", "0_early/", "m/", "zz_late/", "a/"]


def _stamp(rng: random.Random, base: datetime, spread_days: int) -> str:
    moment = base + timedelta(seconds=rng.randrange(spread_days * 86400))
    style = rng.random()
    if style < 0.7:
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    if style < 0.9:
        return moment.strftime("%Y-%m-%d %H:%M:%S") + "+02:00"
    return rng.choice(["", "garbage", "2024-02-30T00:00:00Z", " " + moment.isoformat() + " "])


def _increment(rng: random.Random, settings, step: int) -> None:
    users = [r["k"] for r in fetch(settings, "select distinct silver.trim_ascii(user_id) as k "
                                             "from bronze.users order by 1")]
    contents = [r["k"] for r in fetch(settings, "select distinct silver.content_key(doc) as k "
                                                "from bronze.content order by 1")
                if r["k"] is not None]
    sessions = fetch(settings, "select * from bronze.viewing_sessions "
                               "order by ingestion_id, source_row")
    latest = fetch(settings, "select max(started_at) as m from silver.viewing_sessions")[0]["m"] \
        or datetime(2026, 9, 1, tzinfo=timezone.utc)
    new_users = [f"nu{step}_{i}" for i in range(3)]
    new_contents = [f"{9000 + step * 10 + i}" for i in range(2)]
    kinds = rng.sample(["sessions", "resend", "users", "content"], k=rng.randint(1, 4))
    for kind in kinds:
        path = f"{rng.choice(PREFIXES)}"
        if kind == "sessions":
            rows = []
            for i in range(rng.randint(5, 40)):
                user = rng.choice(users + new_users + ["", "ghost"])
                content = rng.choice(contents + new_contents + ["404"])
                start = _stamp(rng, latest - timedelta(days=rng.choice([40, 5, 0])),
                               rng.choice([1, 45]))
                rows.append({"session_id": f"n{step}_{i}", "user_id": user, "content_id": content,
                             "started_at": start, "ended_at": "",
                             "watch_seconds": str(rng.choice([60, 600, 3600, 7200, -5])),
                             "device": rng.choice(["tv", "Web", "fridge", " mobile "])})
            load_bronze(settings, "viewing_sessions", f"{path}viewing_sessions_{step}.csv", rows)
        elif kind == "resend":
            rows = []
            for original in rng.sample(sessions, k=min(len(sessions), rng.randint(5, 40))):
                row = {c: original[c] for c in ("session_id", "user_id", "content_id", "started_at",
                                                "ended_at", "watch_seconds", "device")}
                change = rng.random()
                if change < 0.3:
                    row["watch_seconds"], row["ended_at"] = str(rng.randrange(1, 9000)), ""
                elif change < 0.45:
                    row["started_at"] = "not a time"
                elif change < 0.6:
                    row["user_id"] = rng.choice(users + new_users)
                elif change < 0.7:
                    row["content_id"] = rng.choice(contents + new_contents)
                rows.append(row)
            load_bronze(settings, "viewing_sessions", f"{path}viewing_sessions_resent_{step}.csv",
                        rows)
        elif kind == "users":
            rows = []
            for user in rng.sample(users, k=min(len(users), rng.randint(2, 10))) + \
                    rng.sample(new_users, k=rng.randint(0, 3)):
                rows.append({"user_id": rng.choice([user, f" {user}"]),
                             "email": f"{user}@example.com",
                             "country": rng.choice(["br", "US", "PT", "", "xx1"]),
                             "subscription_tier": rng.choice(["free", "Premium", "gold", ""]),
                             "updated_at": _stamp(rng, datetime(2024, 1, 1, tzinfo=timezone.utc),
                                                  1500)})
            load_bronze(settings, "users", f"{path}users_{step}.csv", rows)
        else:
            docs = []
            for content in rng.sample(contents, k=min(len(contents), rng.randint(1, 5))) + \
                    rng.sample(new_contents, k=rng.randint(0, 2)):
                docs.append({"content_id": int(content) if content.isdigit() and rng.random() < .5
                             else content,
                             "title": rng.choice([f"T{content}", "", None]),
                             "content_type": rng.choice(["movie", "Series", "podcast"]),
                             "genres": rng.sample(["drama", "Comedy", "crime", " kids "],
                                                  k=rng.randint(0, 3)),
                             "duration_min": rng.choice([30, 90, "45", 0, None]),
                             "updated_at": _stamp(rng, datetime(2023, 1, 1, tzinfo=timezone.utc),
                                                  1500)})
            load_bronze(settings, "content", f"{path}content_{step}.json", docs)


def _check_seed(seed: int, steps: int, medallion_db, raw_dir) -> None:
    synth.generate(raw_dir, users=60, sessions=1200, contents=20, days=60, seed=seed,
                   dirty_rate=0.05)
    ingest(raw_dir, settings=medallion_db)
    transform(run_id=f"base-{seed}")
    rng = random.Random(seed)
    for step in range(steps):
        _increment(rng, medallion_db, step)
        run_id = f"step-{seed}-{step}"
        transform(run_id=run_id)
        assert {r["mode"] for r in model_runs(medallion_db, run_id).values()} == {"incremental"}
        assert_equals_full_refresh(medallion_db)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_incremental_equals_full_refresh(seed, medallion_db, raw_dir):
    _check_seed(seed, 4, medallion_db, raw_dir)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(4, 14))
def test_incremental_equals_full_refresh_more_seeds(seed, medallion_db, raw_dir):
    _check_seed(seed, 8, medallion_db, raw_dir)
