"""Settings: defaults of the original pipeline, overrides, and secrets kept secret."""

from pathlib import Path

from etl.settings import Settings


def test_defaults_are_the_original_pipelines(monkeypatch):
    for var in ("POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD",
                "MONGO_HOST", "MONGO_PORT", "MONGO_DB", "MONGO_URI", "RAW_DATA_PATH"):
        monkeypatch.delenv(var, raising=False)
    s = Settings(_env_file=None)
    assert (s.postgres_host, s.postgres_port, s.postgres_db, s.postgres_user) == (
        "127.0.0.1", 5432, "video_analytics", "postgres")
    assert s.postgres_password_value == ""
    assert (s.mongo_host, s.mongo_port, s.mongo_db) == ("127.0.0.1", 27017, "video_content")
    assert s.mongo_uri_value == "mongodb://127.0.0.1:27017/?directConnection=true"
    assert s.raw_data_path == Path("data/raw")


def test_environment_overrides_and_mongo_uri_wins(monkeypatch):
    monkeypatch.setenv("POSTGRES_PORT", "6543")
    monkeypatch.setenv("POSTGRES_PASSWORD", "s3cret/with@chars")
    monkeypatch.setenv("MONGO_URI", "mongodb://user:pw@db.example:27111/?directConnection=true")
    s = Settings(_env_file=None)
    assert s.postgres_port == 6543
    assert "s3cret%2Fwith%40chars" in s.sqlalchemy_url()
    assert s.mongo_address == "db.example:27111"
    assert "s3cret" not in repr(s) and "pw@" not in repr(s)


def test_dotenv_file_is_read(tmp_path, monkeypatch):
    monkeypatch.delenv("POSTGRES_DB", raising=False)
    env = tmp_path / ".env"
    env.write_text("POSTGRES_DB=from_dotenv\n")
    assert Settings(_env_file=env).postgres_db == "from_dotenv"
