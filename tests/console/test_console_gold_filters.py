"""The gold page's filtered views on generated data built by the real pipeline.

A filter that selects everything must give the unfiltered gold numbers (gold.kpi_summary,
gold.daily_viewing, gold.country_insights, gold.content_performance,
gold.genre_performance), and any filter must give what the test computes on its own from
gold.fact_viewing (and silver.content_genres for genres) with the contract's definitions. The new
aggregate tables' Soda checks must pass on the same data.
"""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from console.data import gold
from etl import db, pipeline, synth

pytestmark = pytest.mark.integration

AGGREGATES = ("gold.daily_segment_viewing", "gold.user_daily_viewing")
TILES = ("sessions", "total_watch_hours", "avg_session_minutes", "avg_completion_pct",
         "completion_rate_pct", "active_users_30d")


def approx(value):
    """The contract's tolerance; a mean over no rows is null (None or NaN in a frame)."""
    if value is None:
        return _Missing()
    return pytest.approx(value, rel=1e-6, abs=1e-9, nan_ok=True)


class _Missing:
    def __eq__(self, other) -> bool:
        return other is None or pd.isna(other)

    def __repr__(self) -> str:
        return "null"


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    out = tmp_path_factory.mktemp("gold-filters-raw")
    synth.generate(out, users=300, sessions=4000, contents=80, days=60, seed=11, dirty_rate=0.05)
    return out


@pytest.fixture
def built(medallion_db, raw):
    """The generated data through the whole pipeline, gold checks included."""
    report = pipeline.run(raw, settings=medallion_db, run_id="gold-filters", checks=True)
    assert report.status == "success"
    return medallion_db


def _fetch(settings, query: str) -> pd.DataFrame:
    with db.connect(settings) as conn:
        cur = conn.execute(query)
        return pd.DataFrame(cur.fetchall(), columns=[c.name for c in cur.description])


def _everything() -> gold.KpiFilter:
    first, last = gold.date_bounds()
    options = gold.filter_options()
    return gold.KpiFilter(first, last, countries=tuple(options["country"]),
                          tiers=tuple(options["tier"]), devices=tuple(options["device"]),
                          first_date=first, last_date=last)


def test_a_filter_selecting_everything_equals_the_unfiltered_view(built):
    flt = _everything()
    assert not flt.is_empty and flt.narrows_users  # the filtered queries do run
    assert "unknown" in flt.countries  # generated users without a country are selected too

    summary = _fetch(built, "select * from gold.kpi_summary").iloc[0]
    tiles = gold.kpi_tiles(flt)
    assert tiles["users"] == summary["users"]
    for name in TILES:
        assert tiles[name] == approx(summary[name]), name
    assert tiles["as_of"] == summary["as_of"]
    assert tiles["unique_users"] == _fetch(
        built, "select count(distinct user_id) as n from gold.fact_viewing").iloc[0]["n"]

    daily = gold.daily_viewing(flt).reset_index(drop=True)
    expected = _fetch(built, "select * from gold.daily_viewing order by session_date, device")
    assert len(daily) == len(expected) > 0
    assert list(daily["session_date"]) == list(expected["session_date"])
    assert list(daily["device"]) == list(expected["device"])
    for column in ("sessions", "unique_users", "total_watch_hours", "avg_completion_pct"):
        assert [float(v) for v in daily[column]] == approx([float(v) for v in expected[column]])

    countries = gold.country_insights(flt).set_index("country").sort_index()
    insights = _fetch(built, "select * from gold.country_insights where sessions > 0") \
        .set_index("country").sort_index()
    assert list(countries.index) == list(insights.index)
    for column in ("active_users", "sessions", "total_watch_hours", "avg_session_minutes"):
        assert [float(v) for v in countries[column]] == \
            approx([float(v) for v in insights[column]]), column


def _plain(value):
    """None for a missing value (None or NaN), else the value."""
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else value


def _assert_frames_equal(got: pd.DataFrame, want: pd.DataFrame, key: str, label: str) -> None:
    """Same keys in the same order; text equal, numbers within the contract's tolerance."""
    assert list(got[key]) == list(want[key]), label
    for column in want.columns:
        for k, a, b in zip(want[key], got[column], want[column]):
            a, b = _plain(a), _plain(b)
            if isinstance(a, str) or isinstance(b, str):
                assert a == b, f"{label}: {column} of {k}"
            else:
                assert a == approx(None if b is None else float(b)), f"{label}: {column} of {k}"


def test_per_content_and_genre_a_filter_selecting_everything_equals_gold(built):
    flt = _everything()
    contents = _fetch(built, "select count(*) as n from gold.content_performance").iloc[0]["n"]
    for by, order in (("views", "views desc"), ("watch_hours", "total_watch_hours desc")):
        want = _fetch(built, f"select * from gold.content_performance "
                             f"order by {order}, content_id")
        got = gold.top_content(flt, by=by, limit=int(contents))
        assert len(got) == len(want) == contents > 0
        _assert_frames_equal(got, want[list(got.columns)], "content_id", f"top by {by}")

    want = _fetch(built, "select * from gold.genre_performance "
                         "order by total_watch_hours desc, genre")
    got = gold.genre_performance(flt)
    assert len(want) > 1
    assert want["views"].sum() > len(_fetch(built, "select session_id from gold.fact_viewing")), \
        "contents with several genres should count a session for each"
    _assert_frames_equal(got, want[list(got.columns)], "genre", "genres")


def _expected_per_content(rows: pd.DataFrame, contents: pd.DataFrame) -> pd.DataFrame:
    """gold.content_performance's definitions over the selected facts, every content kept."""
    per = rows.groupby("content_id").agg(
        views=("session_id", "size"), unique_viewers=("user_id", "nunique"),
        watch_seconds=("watch_seconds", "sum"), avg_completion_pct=("completion_pct", "mean"),
        with_pct=("completion_pct", "count"), completed=("is_completed", lambda s: (s == True).sum()))  # noqa: E712
    out = contents[["content_id", "title", "content_type"]].set_index("content_id").join(per)
    out["views"] = out["views"].fillna(0)
    out["unique_viewers"] = out["unique_viewers"].fillna(0)
    out["total_watch_hours"] = out["watch_seconds"].fillna(0) / 3600
    out["completion_rate_pct"] = (100 * out["completed"] / out["with_pct"]).where(out["with_pct"] > 0)
    out["avg_completion_pct"] = out["avg_completion_pct"].where(out["with_pct"] > 0)
    return out.reset_index()[["content_id", "title", "content_type", "views", "unique_viewers",
                              "total_watch_hours", "avg_completion_pct", "completion_rate_pct"]]


def _expected_per_genre(rows: pd.DataFrame, genres: pd.DataFrame) -> pd.DataFrame:
    """gold.genre_performance's definitions over the selected facts: a session counts for
    every genre of its content; titles are the genre's contents, viewed or not."""
    titles = genres.groupby("genre").size().rename("titles")
    joined = rows.merge(genres, on="content_id")
    per = joined.groupby("genre").agg(
        views=("session_id", "size"), unique_viewers=("user_id", "nunique"),
        watch_seconds=("watch_seconds", "sum"), avg_completion_pct=("completion_pct", "mean"))
    out = titles.to_frame().join(per)
    out["views"] = out["views"].fillna(0)
    out["unique_viewers"] = out["unique_viewers"].fillna(0)
    out["total_watch_hours"] = out["watch_seconds"].fillna(0) / 3600
    return out.reset_index()[["genre", "titles", "views", "unique_viewers", "total_watch_hours",
                              "avg_completion_pct"]]


def _expected_tiles(fact: pd.DataFrame, selected: pd.Series) -> dict:
    """The contract's KPI definitions, computed here from the selected fact rows."""
    rows = fact[selected]
    with_pct = rows["completion_pct"].notna()
    window_start = fact["started_at"].max() - timedelta(hours=720)
    return {
        "sessions": len(rows),
        "total_watch_hours": rows["watch_seconds"].sum() / 3600,
        "avg_session_minutes": rows["watch_seconds"].mean() / 60 if len(rows) else None,
        "avg_completion_pct": rows["completion_pct"].mean() if with_pct.any() else None,
        "completion_rate_pct": (100 * (rows["is_completed"] == True).sum() / with_pct.sum()  # noqa: E712
                                if with_pct.any() else None),
        "active_users_30d": rows.loc[rows["started_at"] > window_start, "user_id"].nunique(),
        "unique_users": rows["user_id"].nunique(),
    }


def _cases(fact: pd.DataFrame) -> dict[str, gold.KpiFilter]:
    first, last = fact["session_date"].min(), fact["session_date"].max()
    busiest = fact["country"].value_counts().index[:2].tolist()
    mid = first + (last - first) / 2
    return {
        "two countries and unknown": gold.KpiFilter(
            first, last, countries=(*busiest, "unknown"), first_date=first, last_date=last),
        "a tier on two devices": gold.KpiFilter(
            first, last, tiers=("premium",), devices=("tv", "mobile"), first_date=first,
            last_date=last),
        "the first half of the dates": gold.KpiFilter(
            first, mid, first_date=first, last_date=last),
        "the last week, one country, two tiers": gold.KpiFilter(
            last - timedelta(days=6), last, countries=busiest[:1], tiers=("free", "basic"),
            first_date=first, last_date=last),
        "nothing matches": gold.KpiFilter(first, last, countries=("no such country",),
                                          first_date=first, last_date=last),
    }


def _selected(fact: pd.DataFrame, flt: gold.KpiFilter) -> pd.Series:
    country = fact["country"].fillna("unknown")
    mask = fact["session_date"].between(flt.start_date, flt.end_date)
    if flt.countries:
        mask &= country.isin(flt.countries)
    if flt.tiers:
        mask &= fact["subscription_tier"].isin(flt.tiers)
    if flt.devices:
        mask &= fact["device"].isin(flt.devices)
    return mask


def test_filtered_views_equal_an_independent_computation_from_fact_viewing(built):
    fact = _fetch(built, "select * from gold.fact_viewing")
    fact["completion_pct"] = fact["completion_pct"].astype(float)
    assert fact["country"].isna().any(), "the generated data should have users without a country"
    for label, flt in _cases(fact).items():
        selected = _selected(fact, flt)
        if label != "nothing matches":
            assert 0 < selected.sum() < len(fact), f"{label} should select some sessions"
        expected = _expected_tiles(fact, selected)
        tiles = gold.kpi_tiles(flt)
        for name, value in expected.items():
            assert tiles[name] == approx(value), f"{label}: {name}"

        rows = fact.assign(country=fact["country"].fillna("unknown"))[selected]
        daily = gold.daily_viewing(flt)
        per_day = rows.groupby(["session_date", "device"]).agg(
            sessions=("session_id", "size"), unique_users=("user_id", "nunique"),
            watch_seconds=("watch_seconds", "sum"), avg_completion_pct=("completion_pct", "mean"))
        assert len(daily) == len(per_day), label
        for rec in daily.to_dict("records"):
            want = per_day.loc[(rec["session_date"], rec["device"])]
            assert rec["sessions"] == want["sessions"], label
            assert rec["unique_users"] == want["unique_users"], label
            assert rec["total_watch_hours"] == approx(want["watch_seconds"] / 3600), label
            assert rec["avg_completion_pct"] == approx(want["avg_completion_pct"]), label

        countries = gold.country_insights(flt)
        per_country = rows.groupby("country").agg(
            active_users=("user_id", "nunique"), sessions=("session_id", "size"),
            watch_seconds=("watch_seconds", "sum"))
        assert sorted(countries["country"]) == sorted(per_country.index), label
        for rec in countries.to_dict("records"):
            want = per_country.loc[rec["country"]]
            assert (rec["active_users"], rec["sessions"]) == \
                (want["active_users"], want["sessions"]), label
            assert rec["total_watch_hours"] == approx(want["watch_seconds"] / 3600), label
            assert rec["avg_session_minutes"] == \
                approx(want["watch_seconds"] / want["sessions"] / 60), label


def test_filtered_content_and_genres_equal_an_independent_computation(built):
    fact = _fetch(built, "select * from gold.fact_viewing")
    fact["completion_pct"] = fact["completion_pct"].astype(float)
    contents = _fetch(built, "select content_id, title, content_type from silver.content")
    genres = _fetch(built, "select content_id, genre from silver.content_genres")
    for label, flt in _cases(fact).items():
        rows = fact[_selected(fact, flt)]
        want = _expected_per_content(rows, contents)
        for by, column in (("views", "views"), ("watch_hours", "total_watch_hours")):
            ordered = want.sort_values([column, "content_id"], ascending=[False, True],
                                       kind="stable").head(10).reset_index(drop=True)
            got = gold.top_content(flt, by=by, limit=10)
            # Ties at the tenth place: the same measure, whichever content wins the tie.
            assert [float(v) for v in got[column]] == \
                approx([float(v) for v in ordered[column]]), f"{label}: top by {by}"
            for rec in got.to_dict("records"):
                expected = want.set_index("content_id").loc[rec["content_id"]]
                for name in ("views", "unique_viewers", "total_watch_hours",
                             "avg_completion_pct", "completion_rate_pct"):
                    value = expected[name]
                    assert rec[name] == approx(None if pd.isna(value) else float(value)), \
                        f"{label}: {name} of {rec['content_id']}"
                assert _plain(rec["title"]) == _plain(expected["title"]), label

        want = _expected_per_genre(rows, genres).set_index("genre")
        got = gold.genre_performance(flt).set_index("genre")
        assert sorted(got.index) == sorted(want.index), label
        for genre, rec in got.iterrows():
            for name in want.columns:
                value = want.loc[genre, name]
                assert rec[name] == approx(None if pd.isna(value) else float(value)), \
                    f"{label}: {name} of genre {genre}"


def test_the_aggregate_tables_pass_their_checks(built):
    results = _fetch(built, "select table_name, check_name, outcome from ops.dq_check_results "
                            "where run_id = 'gold-filters'")
    mine = results[results["table_name"].isin(AGGREGATES)]
    assert set(mine["table_name"]) == set(AGGREGATES)
    failing = mine[mine["outcome"] != "pass"]
    assert failing.empty, failing.to_string()
