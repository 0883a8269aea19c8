"""Discovery (offline): base-name patterns, case-insensitivity, recursion, byte order."""

import pytest

from etl.ingest.discover import classify, discover


@pytest.mark.parametrize("name, expected", [
    ("users.csv", ("users", "csv", None)),
    ("USERS_2024-01.CSV", ("users", "csv", None)),
    ("users.csv.gz", ("users", "csv", "gzip")),
    ("Viewing_Sessions_part1.csv.GZ", ("viewing_sessions", "csv", "gzip")),
    ("content.json", ("content", "json", None)),
    ("content_extra.jsonl", ("content", "jsonl", None)),
    ("content.JSONL.gz", ("content", "jsonl", "gzip")),
    ("content.json.gz", ("content", "json", "gzip")),
    ("README.txt", None), ("users.csv.bak", None), ("my_users.csv", None),
    ("viewing.csv", None), ("content.csv", None), ("users.json", None), (".users.csv", None),
])
def test_classify_by_base_name(name, expected):
    assert classify(name) == expected


def test_discover_is_recursive_matches_base_names_only_and_sorts_by_bytes(tmp_path):
    for rel in ["users/readme.md", "b/users.csv", "B/users.csv", "a/b/content.json", "Z.txt",
                "users_ä.csv", "users_z.csv", "content/notes.txt"]:
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    found = discover(tmp_path)
    assert [f.source_file for f in found] == [
        "B/users.csv", "Z.txt", "a/b/content.json", "b/users.csv", "content/notes.txt",
        "users/readme.md", "users_z.csv", "users_ä.csv"]
    assert {f.source_file: f.entity for f in found}["users/readme.md"] is None
    assert {f.source_file: f.entity for f in found}["content/notes.txt"] is None
    assert all(f.size == 1 and f.mtime_ns > 0 for f in found)
