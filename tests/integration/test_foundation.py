"""Foundation on the real services: idempotent init, clear errors for unreachable services."""

import pytest

from etl import db, schema
from etl.errors import ServiceUnavailable
from stack.services import free_port
from etl.settings import Settings
from tests.support import catalog


def _snapshot(settings):
    with db.connect(settings) as conn:
        return catalog.dump(conn)


def test_init_twice_leaves_schema_unchanged(medallion_db):
    before = _snapshot(medallion_db)
    assert schema.init(medallion_db) == []  # nothing left to apply
    after = _snapshot(medallion_db)
    assert before == after
    relations = {r["name"] for r in before["relations"]}
    for expected in ["bronze.users", "bronze.viewing_sessions", "bronze.content",
                     "ops.ingestion_log", "silver.users", "gold.kpi_summary"]:
        assert expected in relations
    with db.connect(medallion_db) as conn:
        versions = [r[0] for r in conn.execute("select version from ops.schema_migrations order by 1")]
    assert versions == [schema.BASELINE_VERSION] + [m.version for m in schema.migrations()]


def test_init_creates_mongo_collection_with_indexes(medallion_db):
    database = db.mongo_database(medallion_db)
    assert schema.MONGO_COLLECTION in database.list_collection_names()
    names = {ix["name"] for ix in database[schema.MONGO_COLLECTION].list_indexes()}
    assert {"ingestion_row_uq", "content_id_idx"} <= names
    schema.init_mongo(medallion_db)  # idempotent
    assert {ix["name"] for ix in database[schema.MONGO_COLLECTION].list_indexes()} == names


def test_unreachable_postgres_names_host_port_and_variable():
    port = free_port()
    settings = Settings(_env_file=None, postgres_host="127.0.0.1", postgres_port=port)
    with pytest.raises(ServiceUnavailable) as err:
        db.connect(settings)
    message = str(err.value)
    assert f"127.0.0.1:{port}" in message
    assert "POSTGRES_HOST" in message and "POSTGRES_PORT" in message
    assert "\n" not in message


def test_unreachable_mongo_names_address_and_variable():
    port = free_port()
    settings = Settings(_env_file=None, mongo_uri=f"mongodb://127.0.0.1:{port}/?directConnection=true")
    with pytest.raises(ServiceUnavailable) as err:
        db.mongo_client(settings, timeout_ms=300)
    assert f"127.0.0.1:{port}" in str(err.value) and "MONGO_URI" in str(err.value)
