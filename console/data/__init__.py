"""The console's only database access, by domain; pages import the module they need.

- `reader`: engine, cached reads (`st.cache_data` / `st.cache_resource`), `DataUnavailable`
- `runs`: pipeline and model runs, rows per layer, latency, freshness
- `ingestion`: the ingestion log and entity accounting
- `quality`: data-quality scores, check results, failed rows
- `attention`: what needs a person (runs, quality and ingestion together)
- `audit`: the console's action trail (read)
- `records`: the console's own writes: sign-in attempts, the action audit written ahead
- `gold`: KPI tiles and the gold views, filtered through the gold aggregate tables

Every query is a named `Query` constant (`RUNS_RECENT`, `GOLD_FILTERED_TILES`, ...) in
the module of its domain.
"""
