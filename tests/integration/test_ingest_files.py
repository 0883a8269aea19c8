"""Bronze ingestion of CSV and JSON files on the real services: contract sections 1 and 2."""

from __future__ import annotations

import gzip
import json

import pytest

from etl import db
from etl.ingest import ingest
from etl.schema import MONGO_COLLECTION

USERS_HEADER = "user_id,email,full_name,country,signup_date,subscription_tier,birth_year,updated_at"
SESSIONS_HEADER = "session_id,user_id,content_id,started_at,ended_at,watch_seconds,device"
USER_ROW = "u1,a@example.com,Ana,BR,2024-01-05,free,1990,2024-01-05T10:00:00Z"
SESSION_ROW = "s1,u1,10,2024-03-01T20:00:00Z,2024-03-01T21:40:00Z,6000,tv"


def write(path, data: bytes | str):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def bronze(settings, table: str, source_file: str, columns: str = "*") -> list[tuple]:
    with db.connect(settings) as conn:
        return conn.execute(f"select {columns} from bronze.{table} where source_file = %s "
                            "order by source_row", (source_file,)).fetchall()


def log_rows(settings, source_file: str) -> list[dict]:
    with db.connect(settings) as conn:
        cur = conn.execute("select * from ops.ingestion_log where source_file = %s "
                           "order by ingestion_id", (source_file,))
        names = [d.name for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]


def mongo_docs(settings, source_file: str) -> list[dict]:
    database = db.mongo_database(settings)
    return list(database[MONGO_COLLECTION].find({"source_file": source_file}, {"_id": 0})
                .sort("source_row", 1))


def good_files(raw_dir):
    write(raw_dir / "users.csv", f"{USERS_HEADER}\n{USER_ROW}\n")
    write(raw_dir / "viewing_sessions.csv", f"{SESSIONS_HEADER}\n{SESSION_ROW}\n")
    write(raw_dir / "content.json", '[{"content_id": 10, "title": "Night Train"}]')


# ------------------------------------------------------------------ bad files

BAD_FILES = {
    "empty file": ("users_empty.csv", b"", "empty file"),
    "empty json": ("content_empty.json", b"", "empty file"),
    "truncated json": ("content_trunc.json", b'[{"content_id": 1}, {"content_id": 2, "title": "x',
                       "truncated"),
    "non-object element": ("content_scalar.json", b'[{"content_id": 1}, 42]',
                           "document 2 (line 1, column 21): every array element must be an object, found a number"),
    "non-object jsonl line": ("content_lines.jsonl", b'{"content_id": 1}\n["x"]\n',
                              "line 2: every line must hold one JSON object"),
    "binary garbage": ("viewing_sessions_bin.csv", bytes(range(256)) * 4, "NUL byte at line 1, column 1: PostgreSQL text cannot hold NUL characters"),
    "wrong field count": ("viewing_sessions_bad.csv",
                          f"{SESSIONS_HEADER}\n{SESSION_ROW}\n\ns2,u1,10,2024-03-01T20:00:00Z,,600\n".encode(),
                          "data row 2 (line 4) has 6 field(s), the header has 7"),
    "too many fields": ("users_wide.csv", f"{USERS_HEADER}\n{USER_ROW}\n{USER_ROW},extra\n".encode(),
                        "data row 2 (line 3) has 9 field(s), the header has 8"),
    "missing required column": ("users_nocountry.csv",
                                b"user_id,email,full_name,signup_date,subscription_tier,birth_year,updated_at\n"
                                b"u1,a@x.io,A,2024-01-01,free,1990,2024-01-01\n",
                                "line 1: header is missing required column(s) country"),
    "neither utf-8 nor cp1252": ("users_bad_encoding.csv",
                                 f"{USERS_HEADER}\n".encode() + b"u1,a@x.io,Jos\x81,BR,2024-01-01,free,1990,x\n",
                                 "neither UTF-8 (line 2, column 14: byte 0x81) nor cp1252"),
    "unterminated quote": ("users_quote.csv", f'{USERS_HEADER}\nu1,"a@x.io,A,BR,2024-01-01,free,1990,x\n'.encode(),
                           "unterminated CSV quoted field"),
    "not gzip": ("users_fake.csv.gz", f"{USERS_HEADER}\n{USER_ROW}\n".encode(), "not a valid gzip file"),
    "json not an array": ("content_obj.json", b'{"content_id": 1}', "expected a JSON array of objects"),
    "NaN in json": ("content_nan.json", b'[{"content_id": 1, "duration_min": NaN}]', "NaN is not valid JSON"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_file_is_rejected_whole_and_the_others_load(medallion_db, raw_dir, case):
    name, data, expected = BAD_FILES[case]
    good_files(raw_dir)
    write(raw_dir / name, data)
    report = ingest(raw_dir)

    result = report.status_of(name)
    assert result.status == "rejected", result
    assert expected in result.error
    assert result.error.startswith(f"{name}: ")
    [logged] = log_rows(medallion_db, name)
    assert logged["status"] == "rejected" and logged["error"] == result.error
    assert logged["rows_loaded"] == 0
    table = {"users": "users", "viewing_sessions": "viewing_sessions", "content": "content"}[logged["entity"]]
    assert bronze(medallion_db, table, name) == []
    assert mongo_docs(medallion_db, name) == []
    # every other file still loads
    assert {f.source_file: f.status for f in report.files if f.source_file != name} == {
        "users.csv": "loaded", "viewing_sessions.csv": "loaded", "content.json": "loaded"}
    assert report.rows_by_entity == {"users": 1, "viewing_sessions": 1, "content": 1}


def test_documents_without_a_usable_content_id_load_and_never_reject_their_file(medallion_db,
                                                                              raw_dir):
    # Section 1: such a document is rejected on its own in silver (missing_key), later.
    docs = [{"title": "no id"}, {"content_id": None}, {"content_id": ""}, {"content_id": [1]},
            {"content_id": {"id": 1}}, {"content_id": 10.5}, {"content_id": 10}]
    write(raw_dir / "content.json", json.dumps(docs))
    report = ingest(raw_dir)
    assert report.status_of("content.json").status == "loaded"
    assert report.status_of("content.json").rows_loaded == len(docs)
    assert [r[0] for r in bronze(medallion_db, "content", "content.json", "source_row")] == \
        list(range(1, len(docs) + 1))
    assert len(mongo_docs(medallion_db, "content.json")) == len(docs)


def test_json_rejected_after_a_full_mongo_batch_leaves_nothing_in_mongo(medallion_db, raw_dir):
    docs = ",".join(json.dumps({"content_id": i}) for i in range(1, 8))
    write(raw_dir / "content_late_error.json", f"[{docs}, 7]")
    report = ingest(raw_dir, batch_size=2)  # three batches reach MongoDB before the bad element
    assert report.status_of("content_late_error.json").status == "rejected"
    assert "document 8" in report.status_of("content_late_error.json").error
    assert mongo_docs(medallion_db, "content_late_error.json") == []
    assert bronze(medallion_db, "content", "content_late_error.json") == []


# ------------------------------------------------------------------ CSV reading rules

def test_values_exactly_as_read_with_metadata(medallion_db, raw_dir):
    write(raw_dir / "users.csv", f"{USERS_HEADER}\n u1 , A@x.io ,,br,,Premium , 1990,\n")
    report = ingest(raw_dir, run_id="run-42")
    [row] = bronze(medallion_db, "users", "users.csv",
                   "user_id, email, full_name, country, signup_date, subscription_tier, birth_year, "
                   "updated_at, extra, ingestion_id, source_row, ingestion_timestamp is not null")
    assert row[:9] == (" u1 ", " A@x.io ", "", "br", "", "Premium ", " 1990", "", None)
    assert row[9] == report.status_of("users.csv").ingestion_id and row[10:] == (1, True)
    [logged] = log_rows(medallion_db, "users.csv")
    assert logged["run_id"] == "run-42" and logged["file_format"] == "csv"
    assert logged["file_size_bytes"] == (raw_dir / "users.csv").stat().st_size
    assert logged["file_modified_at"] is not None and logged["finished_at"] >= logged["started_at"]
    assert logged["sha256"] and len(logged["sha256"]) == 64 and logged["encoding"] == "utf-8"


def test_bom_crlf_blank_lines_and_quoted_newlines(medallion_db, raw_dir):
    body = (f"\ufeff{SESSIONS_HEADER}\r\n\r\n"
            's1,u1,10,2024-03-01,,"60",tv\r\n'
            '   \r\n'
            's2,u1,10,2024-03-01,,60,"Smart\r\n\r\nTV, ""big"""\r\n'
            '\r\n'
            's3,u1,10,2024-03-01,,60,web')
    write(raw_dir / "viewing_sessions.csv", body)
    report = ingest(raw_dir)
    assert report.status_of("viewing_sessions.csv").rows_loaded == 3
    rows = bronze(medallion_db, "viewing_sessions", "viewing_sessions.csv",
                  "session_id, watch_seconds, device, source_row")
    assert rows == [("s1", "60", "tv", 1), ("s2", "60", 'Smart\r\n\r\nTV, "big"', 2),
                    ("s3", "60", "web", 3)]


def test_header_matched_case_insensitively_after_trimming_in_any_order(medallion_db, raw_dir):
    header = " Device ,WATCH_SECONDS,ended_at,Started_At,content_id,USER_ID, session_id"
    write(raw_dir / "viewing_sessions.csv", f"{header}\ntv,60,,2024-03-01,10,u1,s1\n")
    ingest(raw_dir)
    assert bronze(medallion_db, "viewing_sessions", "viewing_sessions.csv",
                  "session_id, user_id, content_id, started_at, ended_at, watch_seconds, device") == [
        ("s1", "u1", "10", "2024-03-01", "", "60", "tv")]


def test_extra_columns_kept_as_json(medallion_db, raw_dir):
    write(raw_dir / "users.csv", f"{USERS_HEADER},Referrer, plan note\n{USER_ROW},ads,\n{USER_ROW},,x y\n")
    report = ingest(raw_dir)
    assert report.status_of("users.csv").rows_loaded == 2
    assert bronze(medallion_db, "users", "users.csv", "user_id, extra, source_row") == [
        ("u1", {"Referrer": "ads", "plan note": ""}, 1), ("u1", {"Referrer": "", "plan note": "x y"}, 2)]


def test_header_only_loads_zero_rows(medallion_db, raw_dir):
    write(raw_dir / "users.csv", f"{USERS_HEADER}\n")
    write(raw_dir / "viewing_sessions.csv", SESSIONS_HEADER)  # no final newline either
    write(raw_dir / "content.json", "[ ]\n")
    report = ingest(raw_dir)
    for name in ("users.csv", "viewing_sessions.csv", "content.json"):
        result = report.status_of(name)
        assert (result.status, result.rows_loaded) == ("loaded", 0)
        assert log_rows(medallion_db, name)[0]["status"] == "loaded"


def test_cp1252_file_is_read_as_cp1252_and_recorded(medallion_db, raw_dir):
    row = "u1,jose@x.io,José Müller – “Zé”,PT,2024-01-01,free,1990,2024-01-01"
    write(raw_dir / "users_latin.csv", f"{USERS_HEADER}\n{row}\n".encode("cp1252"))
    write(raw_dir / "users_utf8.csv", f"{USERS_HEADER}\n{row}\n".encode("utf-8"))
    report = ingest(raw_dir)
    assert report.status_of("users_latin.csv").encoding == "cp1252"
    assert report.status_of("users_utf8.csv").encoding == "utf-8"
    assert log_rows(medallion_db, "users_latin.csv")[0]["encoding"] == "cp1252"
    for name in ("users_latin.csv", "users_utf8.csv"):
        assert bronze(medallion_db, "users", name, "full_name") == [("José Müller – “Zé”",)]


def test_gzip_csv_and_json(medallion_db, raw_dir):
    write(raw_dir / "users.csv.gz", gzip.compress(f"{USERS_HEADER}\r\n{USER_ROW}\r\n".encode()))
    write(raw_dir / "content_more.jsonl.gz", gzip.compress(b'{"content_id": 1}\n\n{"content_id": 2}\n'))
    write(raw_dir / "content.json.gz", gzip.compress(b'[{"content_id": 3}]'))
    report = ingest(raw_dir)
    assert [(f.source_file, f.status, f.rows_loaded) for f in report.files] == [
        ("content.json.gz", "loaded", 1), ("content_more.jsonl.gz", "loaded", 2),
        ("users.csv.gz", "loaded", 1)]
    assert log_rows(medallion_db, "users.csv.gz")[0]["compression"] == "gzip"
    assert bronze(medallion_db, "users", "users.csv.gz", "user_id, updated_at") == [
        ("u1", "2024-01-05T10:00:00Z")]


def test_mixed_line_endings_load(medallion_db, raw_dir):
    write(raw_dir / "viewing_sessions.csv", f"{SESSIONS_HEADER}\r\n{SESSION_ROW}\n{SESSION_ROW}\r\n")
    assert ingest(raw_dir).status_of("viewing_sessions.csv").rows_loaded == 2


# ------------------------------------------------------------------ JSON

def test_json_and_jsonl_documents_reach_bronze_and_mongo_identically(medallion_db, raw_dir):
    docs = [{"content_id": 10, "title": "Night Train", "genres": ["Drama", " thriller "],
             "duration_min": 100.5, "release": {"year": 2019}, "cast": [{"name": "A", "role": "x"}]},
            {"content_id": "11", "genres": "Nature", "duration_min": "50"},
            {"title": "No id", "ratings": None}]
    write(raw_dir / "content.json", json.dumps(docs, indent=2))
    write(raw_dir / "sub" / "content_2.jsonl", "\n".join(json.dumps(d) for d in docs) + "\n\n")
    report = ingest(raw_dir, batch_size=2)
    assert report.rows_by_entity == {"content": 6}
    for name in ("content.json", "sub/content_2.jsonl"):
        rows = bronze(medallion_db, "content", name, "doc, source_row, ingestion_id, ingestion_timestamp")
        assert [r[0] for r in rows] == docs and [r[1] for r in rows] == [1, 2, 3]
        mongo = mongo_docs(medallion_db, name)
        assert [{k: v for k, v in d.items() if k not in
                 ("ingestion_id", "source_file", "source_row", "ingestion_timestamp")} for d in mongo] == docs
        assert [(d["ingestion_id"], d["source_row"]) for d in mongo] == [(rows[0][2], i) for i in (1, 2, 3)]
        # BSON dates hold milliseconds
        assert abs((mongo[0]["ingestion_timestamp"] - rows[0][3]).total_seconds()) < 0.001


def test_json_numbers_keep_their_digits_in_bronze(medallion_db, raw_dir):
    write(raw_dir / "content.json", '[{"content_id": 12345678901234567890123, "duration_min": 1.50}]')
    ingest(raw_dir)
    with db.connect(medallion_db) as conn:
        text = conn.execute("select doc::text from bronze.content").fetchone()[0]
    assert "12345678901234567890123" in text and "1.50" in text
    assert len(mongo_docs(medallion_db, "content.json")) == 1


# ------------------------------------------------------------------ identity

def test_bronze_row_count_equals_data_row_count_for_every_loaded_file(medallion_db, raw_dir):
    rows = [f"s{i},u{i % 7},{i % 5},2024-03-01T20:00:00Z,,{i},tv" for i in range(2500)]
    rows[10] = 's10,u1,1,2024-03-01,,1,"multi\nline"'
    write(raw_dir / "viewing_sessions.csv", SESSIONS_HEADER + "\n" + "\n\n".join(rows) + "\n")
    write(raw_dir / "users.csv", f"{USERS_HEADER}\n" + f"{USER_ROW}\n" * 1234)
    write(raw_dir / "content.jsonl", "".join(json.dumps({"content_id": i}) + "\n" for i in range(321)))
    report = ingest(raw_dir)
    expected = {"viewing_sessions.csv": 2500, "users.csv": 1234, "content.jsonl": 321}
    with db.connect(medallion_db) as conn:
        counted = dict(conn.execute(
            """select l.source_file, count(b.*) from ops.ingestion_log l
               left join (select ingestion_id from bronze.users union all
                          select ingestion_id from bronze.viewing_sessions union all
                          select ingestion_id from bronze.content) b using (ingestion_id)
               where l.status = 'loaded' group by 1""").fetchall())
        logged = dict(conn.execute("select source_file, rows_loaded from ops.ingestion_log "
                                   "where status = 'loaded'").fetchall())
    assert counted == expected == logged
    assert {f.source_file: f.rows_loaded for f in report.loaded} == expected
    assert db.mongo_database(medallion_db)[MONGO_COLLECTION].count_documents({}) == 321


def test_cp1252_file_under_a_name_cp1252_cannot_spell(medallion_db, raw_dir):
    name = "sub/users_東京.csv"
    write(raw_dir / name, f"{USERS_HEADER}\nu1,a@x.io,Zoë,FR,2024-01-01,free,1990,x\n".encode("cp1252"))
    report = ingest(raw_dir)
    assert (report.status_of(name).status, report.status_of(name).encoding) == ("loaded", "cp1252")
    assert bronze(medallion_db, "users", name, "full_name, source_file") == [("Zoë", name)]


def test_header_wider_than_a_table_keeps_every_extra_column(medallion_db, raw_dir):
    extras = [f"x{i}" for i in range(1700)]
    header = ",".join([*USERS_HEADER.split(","), *extras])
    values = ",".join(f"v{i}" for i in range(1700))
    write(raw_dir / "users_wide.csv", f"{header}\n{USER_ROW},{values}\n\n{USER_ROW},{values}\n")
    write(raw_dir / "users_wide_bad.csv", f"{header}\n{USER_ROW},{values}\n{USER_ROW}\n")
    report = ingest(raw_dir)
    assert report.status_of("users_wide.csv").rows_loaded == 2
    [(user_id, extra, row)] = bronze(medallion_db, "users", "users_wide.csv", "user_id, extra, source_row")[1:]
    assert (user_id, len(extra), extra["x1699"], row) == ("u1", 1700, "v1699", 2)
    bad = report.status_of("users_wide_bad.csv")
    assert bad.status == "rejected" and "data row 2 has 8 field(s), the header has 1708" in bad.error


def test_document_too_large_for_mongodb_rejects_its_file_only(medallion_db, raw_dir):
    write(raw_dir / "content_a_huge.json", '[{"content_id": 1, "title": "' + "t" * (17 << 20) + '"}]')
    write(raw_dir / "content_b.json", '[{"content_id": 2}]')
    report = ingest(raw_dir)
    assert report.status_of("content_a_huge.json").status == "rejected"
    assert report.status_of("content_b.json").rows_loaded == 1
    assert bronze(medallion_db, "content", "content_a_huge.json") == []
