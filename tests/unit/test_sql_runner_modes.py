"""The SQL runner's incremental conventions offline: `-- mode:` sections, the counts
markers, checksums, table names in string literals, and who owes a full refresh."""

from __future__ import annotations

import pytest

from etl import sql_runner
from etl.errors import ConfigError
from etl.sql_runner import discover, load_model, model_descendants, split_sections


def _write(tmp_path, layer, name, sql):
    folder = tmp_path / layer
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.sql"
    path.write_text(sql)
    return path


MODEL = """-- silver.a: a header that mentions `-- mode:` sections in passing
create temporary table a_scope as select 1;
-- mode: full
truncate silver.a;
-- mode: incremental
delete from silver.a where id in (select id from a_keys);
-- mode: all
insert into silver.a select * from a_scope;
-- mode: incremental
insert into ops.model_queue select 'gold.b', 'user', id from a_scope;
"""


def test_sections_choose_the_statements_of_a_mode(tmp_path):
    model = load_model(_write(tmp_path, "silver", "a", MODEL), "silver")
    full = model.statements_for("full")
    incremental = model.statements_for("incremental")
    assert [s.splitlines()[-1] for s in full] == [
        "create temporary table a_scope as select 1", "truncate silver.a",
        "insert into silver.a select * from a_scope"]
    assert [s.splitlines()[-1] for s in incremental] == [
        "create temporary table a_scope as select 1",
        "delete from silver.a where id in (select id from a_keys)",
        "insert into silver.a select * from a_scope",
        "insert into ops.model_queue select 'gold.b', 'user', id from a_scope"]
    assert [mode for mode, _ in split_sections(MODEL)] == [
        "all", "full", "incremental", "all", "incremental"]
    with pytest.raises(ConfigError, match="unknown mode"):
        model.statements_for("partial")


def test_a_table_named_in_a_string_is_not_a_dependency(tmp_path):
    model = load_model(_write(tmp_path, "silver", "a", MODEL), "silver")
    assert "gold.b" not in model.depends_on


def test_the_checksum_follows_the_file(tmp_path):
    path = _write(tmp_path, "silver", "a", MODEL)
    before = load_model(path, "silver").checksum
    path.write_text(MODEL + "-- a comment\n")
    assert load_model(path, "silver").checksum != before


def test_a_full_refresh_of_a_model_is_owed_by_everything_downstream():
    readers = model_descendants(discover())
    assert set(readers["silver.users"]) == {
        "silver.viewing_sessions", "gold.fact_viewing", "gold.content_performance",
        "gold.user_engagement", "gold.genre_performance", "gold.country_insights",
        "gold.daily_viewing", "gold.kpi_summary", "gold.daily_segment_viewing",
        "gold.user_daily_viewing"}
    assert readers["gold.user_engagement"] == ("gold.country_insights", "gold.kpi_summary")
    assert readers["gold.kpi_summary"] == ()


@pytest.mark.parametrize("model", discover(), ids=lambda m: m.name)
def test_every_product_model_runs_in_both_modes(model):
    full, incremental = model.statements_for("full"), model.statements_for("incremental")
    assert full and incremental
    # A model with sections keeps truncation to its full refresh. (A model without any is
    # simply rebuilt in both modes: correct, not incremental.)
    if len(split_sections(model.sql)) > 1:
        assert not any("truncate" in sql_runner._strip_comments(s).lower() for s in incremental)
