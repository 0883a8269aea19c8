"""`medallion ingest`: register and load every raw file, then print one line per file."""

from __future__ import annotations

import argparse
import logging
import sys

from etl import runs
from etl.ingest import ingest
from etl.ingest.report import IngestReport

log = logging.getLogger(__name__)
COLUMNS = ("source_file", "status", "rows", "encoding", "error")


def render(report: IngestReport) -> str:
    """The per-file table and a totals line, as plain text."""
    rows = [{"source_file": f.source_file, "status": f.status, "rows": f"{f.rows_loaded:,}"
             if f.status == "loaded" else "", "encoding": f.encoding or "",
             "error": (f.error or "").replace("\n", " ")} for f in report.files]
    if not rows:
        return "no raw files found"
    widths = {c: max(len(c), *(len(r[c]) for r in rows)) for c in COLUMNS[:-1]}
    def line(r: dict) -> str:
        return "  ".join([r[c].ljust(widths[c]) if c != "rows" else r[c].rjust(widths[c])
                          for c in COLUMNS[:-1]] + [r["error"]]).rstrip()
    header = line({c: c for c in COLUMNS})
    sep = "  ".join("-" * widths[c] for c in COLUMNS[:-1]) + "  -----"
    by_entity = ", ".join(f"{e} {n:,}" for e, n in sorted(report.rows_by_entity.items())) or "none"
    totals = (f"{len(report.loaded)} loaded, {len(report.rejected)} rejected, "
              f"{report.rows_loaded:,} rows ({by_entity})")
    return "\n".join([header, sep, *(line(r) for r in rows), "", totals])


def main(args: argparse.Namespace) -> int:
    """Run the bronze ingestion; exit 0 unless --strict and a file was rejected."""
    run_id = runs.new_run_id("ingest")
    report = ingest(getattr(args, "raw_dir", None), run_id=run_id,
                    progress=not getattr(args, "no_progress", False))
    print(render(report))
    if getattr(args, "strict", False) and report.rejected:
        print(f"error: {len(report.rejected)} file(s) rejected (--strict)", file=sys.stderr)
        return 1
    return 0
