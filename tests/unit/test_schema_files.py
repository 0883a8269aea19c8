"""The baseline files and the delta naming rules of etl/schema.py, offline."""

from __future__ import annotations

import re

import pytest

from etl import schema
from etl.errors import ConfigError


def test_the_baseline_is_the_files_of_sql_schema_each_once():
    on_disk = sorted(p.stem for p in schema.SCHEMA_DIR.glob("*.sql"))
    assert sorted(schema.BASELINE_FILES) == on_disk
    assert [p.stem for p in schema.baseline().paths] == list(schema.BASELINE_FILES)


def test_every_object_of_the_baseline_is_defined_once():
    created = re.compile(
        r"^\s*create\s+(?:or\s+replace\s+)?(?:unique\s+)?(table|function|index|schema)\s+"
        r"(?:if\s+not\s+exists\s+)?([\w.]+)", re.IGNORECASE | re.MULTILINE)
    seen: dict[tuple[str, str], str] = {}
    for path in schema.baseline().paths:
        for kind, name in created.findall(path.read_text(encoding="utf-8")):
            key = (kind.lower(), name.lower())
            assert key not in seen, f"{kind} {name} is defined in {seen[key]} and {path.name}"
            seen[key] = path.name
    assert ("function", "silver.parse_timestamp_utc") in seen
    assert ("table", "ops.console_audit") in seen


def test_the_baseline_never_redefines_or_alters():
    for path in schema.baseline().paths:
        text = path.read_text(encoding="utf-8").lower()
        assert "or replace" not in text and not re.search(r"^\s*(alter|drop)\s", text, re.M), path


def test_deltas_are_numbered_above_the_baseline(tmp_path):
    (tmp_path / "0501_b.sql").write_text("select 1;")
    (tmp_path / "0500_a.sql").write_text("select 1;")
    assert [m.version for m in schema.migrations(tmp_path)] == ["0500", "0501"]
    (tmp_path / "0400_again.sql").write_text("select 1;")
    with pytest.raises(ConfigError, match="at or below the baseline 0400"):
        schema.migrations(tmp_path)


@pytest.mark.parametrize("name", ["500_short.sql", "next_thing.sql", "0500.sql"])
def test_a_badly_named_delta_is_refused(tmp_path, name):
    (tmp_path / name).write_text("select 1;")
    with pytest.raises(ConfigError, match="NNNN_description.sql"):
        schema.migrations(tmp_path)


def test_a_deltas_checksum_is_the_files_sha256(tmp_path):
    import hashlib

    path = tmp_path / "0500_a.sql"
    path.write_bytes(b"select 1;\n")
    (delta,) = schema.migrations(tmp_path)
    assert delta.checksum == hashlib.sha256(b"select 1;\n").hexdigest()
