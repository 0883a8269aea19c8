"""etl.quality.store without a database: failed rows as JSON."""

from __future__ import annotations

from etl.quality import store


def test_failed_rows_become_json():
    from datetime import date
    from decimal import Decimal

    row = store.json_row({"d": date(2024, 3, 1), "n": Decimal("1.5"), "x": float("nan"),
                          "i": 3, "s": None})
    assert row.obj == {"d": "2024-03-01", "n": "1.5", "x": "nan", "i": 3, "s": None}
