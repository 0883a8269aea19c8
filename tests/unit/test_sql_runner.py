"""The SQL runner offline: statement splitting, dependency inference, ordering."""

from __future__ import annotations

import pytest

from etl import sql_runner
from etl.errors import ConfigError
from etl.sql_runner import discover, load_model, order_models, split_statements


def test_split_statements_respects_quotes_comments_and_dollar_quotes():
    script = """
    -- a comment; with a semicolon
    create table t (a text);
    insert into t values ('a;b'), ('it''s; fine'), (E'x'), ("q;"::text);
    /* block; comment */
    create function f() returns int language sql as $$ select 1; $$;
    do $body$ begin perform 1; end $body$;
    select ';' -- trailing; comment
    ;
    -- only a comment at the end;
    """
    parts = split_statements(script)
    assert len(parts) == 5
    assert parts[1].startswith("insert into t values ('a;b'), ('it''s; fine')")
    assert parts[2].endswith("$$ select 1; $$")
    assert parts[3] == "do $body$ begin perform 1; end $body$"
    assert parts[4].startswith("select ';'")


def _write(tmp_path, layer, name, sql):
    folder = tmp_path / layer
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.sql"
    path.write_text(sql)
    return path


def test_dependencies_come_from_the_header_and_from_references(tmp_path):
    path = _write(tmp_path, "gold", "facts", """
    -- depends_on: silver.extra
    -- builds: gold.facts_side
    truncate gold.facts;
    insert into gold.facts select * from silver.a join silver.b using (id)
      where silver.trim_ascii(x) <> '' and gold.facts.id > 0;  -- silver.commented_out
    """)
    model = load_model(path, "gold")
    assert model.name == "gold.facts"
    assert model.builds == ("gold.facts", "gold.facts_side")
    assert model.depends_on == {"silver.extra", "silver.a", "silver.b"}


def test_order_is_topological_and_detects_cycles(tmp_path):
    _write(tmp_path, "silver", "a", "insert into silver.a select 1;")
    _write(tmp_path, "silver", "b", "insert into silver.b select * from silver.a;")
    _write(tmp_path, "gold", "c", "insert into gold.c select * from silver.b, gold.d;")
    _write(tmp_path, "gold", "d", "insert into gold.d select * from silver.a;")
    _write(tmp_path, "gold", "_helper", "this is not a model")
    models = discover(sql_dir=tmp_path)
    assert [m.name for m in order_models(models)] == ["silver.a", "silver.b", "gold.d", "gold.c"]
    _write(tmp_path, "silver", "a", "insert into silver.a select * from gold.c;")
    with pytest.raises(ConfigError, match="cycle"):
        order_models(discover(sql_dir=tmp_path))


def test_two_models_building_one_table_is_an_error(tmp_path):
    _write(tmp_path, "silver", "a", "insert into silver.a select 1; insert into silver.b select 1;")
    _write(tmp_path, "silver", "b", "insert into silver.b select 1;")
    with pytest.raises(ConfigError, match="built by both"):
        order_models(discover(sql_dir=tmp_path))


def test_unknown_layer_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown layer"):
        discover(("platinum",))


def test_the_product_models_and_their_order():
    models = order_models(discover())
    names = [m.name for m in models]
    assert set(names) == {
        "silver.users", "silver.content", "silver.viewing_sessions", "gold.fact_viewing",
        "gold.content_performance", "gold.user_engagement", "gold.genre_performance",
        "gold.country_insights", "gold.daily_viewing", "gold.kpi_summary",
        "gold.daily_segment_viewing", "gold.user_daily_viewing"}
    assert names.index("silver.viewing_sessions") > max(names.index("silver.users"),
                                                       names.index("silver.content"))
    assert all(names.index(n) > names.index("gold.fact_viewing")
               for n in names if n.startswith("gold.") and n != "gold.fact_viewing")
    deps = sql_runner.model_dependencies(models)
    assert deps["silver.users"] == set() and deps["silver.content"] == set()
    by_name = {m.name: m for m in models}
    assert "silver.users_rejected" in by_name["silver.users"].builds
    assert {"silver.content_genres", "silver.content_cast", "silver.content_rejected"} <= set(
        by_name["silver.content"].builds)


@pytest.mark.parametrize("stem, header", [
    ("Daily-Viewing", ""),                               # the file name is not an identifier
    ("daily_viewing", "-- builds: gold.x; drop table y\n"),  # a built table is not one either
])
def test_model_and_built_table_names_are_plain_identifiers(tmp_path, stem, header):
    """The runner composes `analyze` from these names: anything but schema.identifier is refused."""
    path = tmp_path / f"{stem}.sql"
    path.write_text(header + "select 1;\n", encoding="utf-8")
    with pytest.raises(ConfigError):
        sql_runner.load_model(path, "gold")
