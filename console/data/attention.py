"""What needs a person now, gathered from runs, quality and ingestion (the Overview list)."""

from __future__ import annotations

import pandas as pd

from console.data import ingestion, quality, runs


def needs_attention(hours: int = 168) -> pd.DataFrame:
    """What needs a person: failed runs, failing critical checks, rejected files.

    Columns: kind, what, when, detail; newest first.
    """
    items = []
    for rec in runs.failed_runs(hours).to_dict("records"):
        items.append({"kind": "❌ failed run", "what": f"{rec['source']} · {rec['run_id']}",
                      "when": rec["started_at"], "detail": rec["error"] or ""})
    results = quality.current_check_results()
    if not results.empty:
        failing = results[results["is_critical"] & results["outcome"].isin(["fail", "error"])]
        for rec in failing.to_dict("records"):
            items.append({"kind": "🛑 critical check failing",
                          "what": f"{rec['table_name']} · {rec['check_name']}",
                          "when": rec["measured_at"],
                          "detail": f"{rec['outcome']}: measured {rec['measured_value']}"
                                    f" ({rec['thresholds'] or 'no threshold recorded'})"})
    for rec in ingestion.rejected_files(hours).to_dict("records"):
        items.append({"kind": "📄 rejected file", "what": rec["source_file"],
                      "when": rec["started_at"], "detail": rec["error"] or ""})
    frame = pd.DataFrame(items, columns=["kind", "what", "when", "detail"])
    return frame.sort_values("when", ascending=False, na_position="last").reset_index(drop=True)
