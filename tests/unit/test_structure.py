"""Structure: every table has its checks file, and every check is named and attributed.

A SQL model `sql/<layer>/<table>.sql` builds `<layer>.<table>` and is paired with
`checks/<layer>/<table>.yml`; the three bronze tables (loaded by the ingester, not by
a model) have theirs too. Each checks file holds exactly one `checks for <layer>.<table>`
block whose checks all carry a `name:` sentence and the attributes the scores need.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BRONZE_TABLES = ["users", "viewing_sessions", "content"]
DIMENSIONS = {"completeness", "uniqueness", "validity", "consistency", "accuracy",
              "referential_integrity", "schema", "timeliness"}

MODELS = sorted(p for layer in ("silver", "gold") for p in (ROOT / "sql" / layer).glob("*.sql"))
CHECK_FILES = sorted((ROOT / "checks").glob("*/*.yml"))


def _checks(path: Path) -> tuple[str, list]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(document, dict) and len(document) == 1, \
        f"{path}: one `checks for <table>` block per file"
    (header, checks), = document.items()
    return header, checks


@pytest.mark.parametrize("model", MODELS, ids=lambda p: f"{p.parent.name}.{p.stem}")
def test_every_sql_model_has_a_checks_file(model):
    checks = ROOT / "checks" / model.parent.name / f"{model.stem}.yml"
    assert checks.is_file(), f"{model.relative_to(ROOT)} has no {checks.relative_to(ROOT)}"


@pytest.mark.parametrize("table", BRONZE_TABLES)
def test_every_bronze_table_has_a_checks_file(table):
    assert (ROOT / "checks" / "bronze" / f"{table}.yml").is_file()


def test_there_are_checks_for_every_layer():
    layers = {p.parent.name for p in CHECK_FILES}
    assert layers == {"bronze", "silver", "gold"}


@pytest.mark.parametrize("path", CHECK_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_check_is_named_and_attributed(path):
    layer, table = path.parent.name, path.stem
    header, checks = _checks(path)
    assert header == f"checks for {layer}.{table}"
    assert isinstance(checks, list) and checks, f"{path}: no checks"
    names = []
    for check in checks:
        assert isinstance(check, dict) and len(check) == 1, f"{path}: {check!r} is not configured"
        (line, config), = check.items()
        where = f"{path.relative_to(ROOT)}: `{line}`"
        assert isinstance(config, dict) and str(config.get("name", "")).strip(), \
            f"{where} has no name"
        names.append(config["name"])
        attributes = config.get("attributes") or {}
        assert attributes.get("layer") == layer, f"{where}: attributes.layer must be {layer}"
        assert attributes.get("dimension") in DIMENSIONS, f"{where}: unknown dimension"
        assert isinstance(attributes.get("weight"), (int, float)) and attributes["weight"] > 0, \
            f"{where}: weight must be a positive number"
        assert isinstance(attributes.get("critical"), bool), f"{where}: critical must be true|false"
    assert len(names) == len(set(names)), f"{path}: check names must be unique"


def test_bronze_has_no_critical_check():
    for path in (ROOT / "checks" / "bronze").glob("*.yml"):
        _, checks = _checks(path)
        for check in checks:
            (_, config), = check.items()
            assert config["attributes"]["critical"] is False, f"{path}: {config['name']}"


def test_configuration_uses_the_environment_and_no_cloud():
    text = (ROOT / "checks" / "configuration.yml").read_text(encoding="utf-8")
    config = yaml.safe_load(text)
    assert list(config) == ["data_source video_analytics"]
    source = config["data_source video_analytics"]
    assert source["type"] == "postgres"
    for key, variable in [("host", "POSTGRES_HOST"), ("port", "POSTGRES_PORT"),
                          ("database", "POSTGRES_DB"), ("username", "POSTGRES_USER"),
                          ("password", "POSTGRES_PASSWORD")]:
        assert variable in str(source[key]), f"{key} must come from ${variable}"
    soda = yaml.safe_load((ROOT / "checks" / "soda_config.yml").read_text(encoding="utf-8"))
    assert soda["send_anonymous_usage_stats"] is False
