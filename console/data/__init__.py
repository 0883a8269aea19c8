"""The console's only database access, by domain; pages import the module they need.

- `reader`: engine, cached reads (`st.cache_data` / `st.cache_resource`), `DataUnavailable`
- `runs`: pipeline and model runs, rows per layer, latency, freshness
- `ingestion`: the ingestion log and entity accounting
- `quality`: data-quality scores, check results, failed rows
- `attention`: what needs a person (runs, quality and ingestion together)
- `audit`: the console's action trail
- `gold`: KPI tiles and the gold views, filtered through the gold aggregate tables

Every query is a named `Query` constant (`RUNS_RECENT`, `GOLD_FILTERED_TILES`, ...) in
the module of its domain.
"""

# console.actions still reaches these as `data.record_action` / `data.DataUnavailable`.
from console.data.audit import record_action
from console.data.reader import DataUnavailable, clear_caches

__all__ = ["DataUnavailable", "clear_caches", "record_action"]
