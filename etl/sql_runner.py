"""SQL runner and executor (the original `sql_runner` / `sqlScriptExecutor` roles).

A *model* is one file `sql/<layer>/<table>.sql`: a script of statements that rebuilds
the table named by its stem (and, for silver, its `_rejected` companion). The runner
executes a model's statements in one transaction, so a failed run leaves the previous
tables intact, and readers see the old tables or the new ones, never an empty or a
half-built one. Every statement is logged with its duration and row count, and every
model run is recorded in `ops.model_runs`.

Incremental runs. A model file may hold sections, each opened by a line of its own:
`-- mode: full` (statements run only in a full refresh), `-- mode: incremental` (only in an
incremental run) and `-- mode: all` (both; also what precedes the first marker). The
convention in sql/: the full and incremental sections only choose the *scope* (every key,
or the keys queued as changed) and the *write* (truncate + insert, or replace the rows that
differ); the model's rows are defined once, in the shared section, over that scope.
A model runs as a full refresh when asked to (`full_refresh`), when it has never run, when
its file's checksum differs from the one recorded in `ops.model_state`, or when a model it
reads was fully rebuilt since (`needs_full`, set on every descendant of a full refresh).
A full refresh drops and rebuilds the indexes of the tables it writes; an incremental run
keeps them (it looks keys up through them). Each run records in `ops.model_runs` its
`mode`, `rows_read` (rows of statements marked `-- counts: read`) and `rows_changed`
(rows inserted or deleted in the model's tables, or the number a statement marked
`-- counts: changed` returns).

The executor orders models by their dependencies (a `-- depends_on: a, b` header plus the
`silver.*` / `gold.*` tables a model reads), runs independent models in parallel on
separate connections, stops the chain at the first failure (recording the models it did
not start as `skipped`), and keeps the history in `ops.model_runs`.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import psycopg.sql

import etl
from etl import db
from etl.errors import ConfigError, RetryableError, TerminalError
from etl.settings import PROJECT_ROOT, Settings, get_settings

log = logging.getLogger(__name__)

SQL_DIR = PROJECT_ROOT / "sql"
# The layers built by SQL models (bronze is loaded by the ingester).
LAYERS = etl.LAYERS[1:]
# Two cores on the reference machine: more workers only contend for them.
MAX_WORKERS = 2
# Per sort/hash node of a model's transaction; at most MAX_WORKERS models run at once.
WORK_MEM = "128MB"
# A full refresh's temporary tables and index builds (see configure_session).
FULL_TEMP_BUFFERS = "512MB"
FULL_MAINTENANCE_WORK_MEM = "256MB"
# Planner cost of a random page read in incremental runs (see run_model).
INCREMENTAL_RANDOM_PAGE_COST = "1.1"
# Two transform runs at once would only wait on each other's table locks; serialise them.
_TRANSFORM_LOCK_KEY = 7_041_979_004

# A model's name is schema.table, and so are the tables it builds: plain identifiers only.
_MODEL_NAME = re.compile(r"^(?:silver|gold)\.[a-z_][a-z0-9_]*$")
_HEADER = re.compile(r"^\s*--\s*(depends_on|builds)\s*:\s*(.*)$", re.IGNORECASE | re.MULTILINE)
# A table reference: schema.name not followed by '(' (which would be a function call).
_REFERENCE = re.compile(r"\b(silver|gold)\.([a-z_][a-z0-9_]*)\b(?!\s*\()", re.IGNORECASE)
_INSERT_TARGET = re.compile(r"\binsert\s+into\s+((?:silver|gold)\.[a-z_][a-z0-9_]*)", re.IGNORECASE)
_DML_TARGET = re.compile(r"\b(?:insert\s+into|delete\s+from|update|merge\s+into)\s+"
                         r"((?:silver|gold)\.[a-z_][a-z0-9_]*)", re.IGNORECASE)
_MODE_MARKER = re.compile(r"^[ \t]*--[ \t]*mode[ \t]*:[ \t]*(full|incremental|all)[ \t]*$",
                          re.IGNORECASE | re.MULTILINE)
_COUNTS = re.compile(r"^[ \t]*--[ \t]*counts[ \t]*:[ \t]*(read|changed)[ \t]*$", re.IGNORECASE | re.MULTILINE)
MODES = ("full", "incremental")


class ModelFailed(TerminalError):
    """A SQL model failed; its transaction was rolled back and the chain stopped."""

    def __init__(self, message: str, results: list["ModelResult"] | None = None):
        super().__init__(message)
        self.results = results or []


class ModelInterrupted(RetryableError):
    """A SQL model lost its connection or hit a serialization failure; safe to rerun."""

    def __init__(self, message: str, results: list["ModelResult"] | None = None):
        super().__init__(message)
        self.results = results or []


@dataclass(frozen=True)
class Model:
    """One SQL model: the file, the table it is named after, what it builds and reads."""

    name: str                      # e.g. silver.users
    layer: str                     # silver | gold
    path: Path
    sql: str
    depends_on: frozenset[str]     # table names this model reads (other than its own)
    builds: tuple[str, ...]        # tables it writes, its own name first

    @property
    def statements(self) -> list[str]:
        """Every statement of the file, whatever its mode section."""
        return split_statements(self.sql)

    def statements_for(self, mode: str) -> list[str]:
        """The statements a run in `mode` ('full' or 'incremental') executes, in file order."""
        if mode not in MODES:
            raise ConfigError(f"unknown mode {mode!r}: choose from {', '.join(MODES)}")
        return [statement for section, text in split_sections(self.sql)
                if section in ("all", mode) for statement in split_statements(text)]

    @property
    def checksum(self) -> str:
        """SHA-256 of the model file: a change means a full refresh of it and its readers."""
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()


@dataclass
class ModelResult:
    """How one model run went."""

    name: str
    layer: str
    status: str                    # success | failed | skipped
    rows: int | None = None        # rows of the model's own table after the run
    seconds: float = 0.0
    error: str | None = None
    retryable: bool = False
    statements: list[dict] = field(default_factory=list)
    mode: str | None = None        # full | incremental
    rows_read: int | None = None
    rows_changed: int | None = None


# ------------------------------------------------------------------ parsing

def split_sections(sql: str) -> list[tuple[str, str]]:
    """Split a model on its `-- mode: full|incremental|all` lines into (mode, text) pairs;
    text before the first marker belongs to 'all'."""
    sections, mode, start = [], "all", 0
    for match in _MODE_MARKER.finditer(sql):
        sections.append((mode, sql[start:match.start()]))
        mode, start = match.group(1).lower(), match.end()
    sections.append((mode, sql[start:]))
    return [(m, text) for m, text in sections if _strip_comments(text).strip()]


def split_statements(sql: str) -> list[str]:
    """Split a script on `;` outside quotes, dollar quotes and comments; drop empty ones."""
    statements, start, i, n = [], 0, 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch == "-" and sql.startswith("--", i):
            end = sql.find("\n", i)
            i = n if end < 0 else end + 1
        elif ch == "/" and sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            i = n if end < 0 else end + 2
        elif ch in ("'", '"'):
            j = i + 1
            while j < n:
                if sql[j] == ch:
                    if j + 1 < n and sql[j + 1] == ch:  # doubled quote
                        j += 2
                        continue
                    break
                j += 1
            i = j + 1
        elif ch == "$":
            match = re.match(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$", sql[i:])
            if match:
                tag = match.group(0)
                end = sql.find(tag, i + len(tag))
                i = n if end < 0 else end + len(tag)
            else:
                i += 1
        elif ch == ";":
            statements.append(sql[start:i])
            start = i = i + 1
        else:
            i += 1
    statements.append(sql[start:])
    return [s.strip() for s in statements if _strip_comments(s).strip()]


def _strip_comments(sql: str) -> str:
    return re.sub(r"--[^\n]*", "", re.sub(r"/\*.*?\*/", "", sql, flags=re.DOTALL))


def load_model(path: Path, layer: str) -> Model:
    """Read one model file and work out what it builds and depends on."""
    sql = path.read_text(encoding="utf-8")
    name = f"{layer}.{path.stem}"
    if not _MODEL_NAME.match(name):
        raise ConfigError(f"{path.name}: a model file is named after its table "
                          "(lower-case letters, digits and _; e.g. daily_viewing.sql)")
    declared: dict[str, set[str]] = {"depends_on": set(), "builds": set()}
    for key, value in _HEADER.findall(sql):
        declared[key.lower()].update(v.strip().lower() for v in value.split(",") if v.strip())
    builds = [name] + sorted(
        (declared["builds"] | {t.lower() for t in _INSERT_TARGET.findall(sql)}) - {name})
    for table in builds:
        if not _MODEL_NAME.match(table):
            raise ConfigError(f"{path.name}: builds {table!r}, which is not a silver or gold table")
    # A table named in a string literal (a queue's consumer, say) is not read.
    code = re.sub(r"'(?:[^']|'')*'", "''", _strip_comments(sql))
    referenced = {f"{s}.{t}".lower() for s, t in _REFERENCE.findall(code)}
    depends = (declared["depends_on"] | referenced) - set(builds)
    return Model(name, layer, path, sql, frozenset(depends), tuple(builds))


def discover(layers: tuple[str, ...] = LAYERS, sql_dir: Path | None = None) -> list[Model]:
    """Every model of the given layers (files starting with `_` are not models)."""
    sql_dir = sql_dir or SQL_DIR
    models = []
    for layer in layers:
        if layer not in LAYERS:
            raise ConfigError(f"unknown layer {layer!r}: choose from {', '.join(LAYERS)}")
        for path in sorted((sql_dir / layer).glob("*.sql")):
            if not path.name.startswith("_"):
                models.append(load_model(path, layer))
    return models


def model_dependencies(models: list[Model]) -> dict[str, set[str]]:
    """For each model, the models (of this set) that build a table it reads."""
    builder = {}
    for model in models:
        for table in model.builds:
            if table in builder:
                raise ConfigError(f"{table} is built by both {builder[table]} and {model.name}")
            builder[table] = model.name
    return {m.name: {builder[t] for t in m.depends_on if t in builder} - {m.name} for m in models}


def order_models(models: list[Model]) -> list[Model]:
    """A topological order (ties by layer, then name); raises ConfigError on a cycle."""
    deps = model_dependencies(models)
    by_name = {m.name: m for m in models}
    layer_rank = {layer: i for i, layer in enumerate(LAYERS)}
    done: list[str] = []
    pending = set(by_name)
    while pending:
        ready = sorted((n for n in pending if deps[n] <= set(done)),
                       key=lambda n: (layer_rank[by_name[n].layer], n))
        if not ready:
            raise ConfigError("SQL models depend on each other in a cycle: " + ", ".join(sorted(pending)))
        done.append(ready[0])
        pending.remove(ready[0])
    return [by_name[n] for n in done]


# ------------------------------------------------------------------ running one model

def _record_start(conn: psycopg.Connection, model: Model, run_id: str, full_refresh: bool,
                  mode: str | None = None) -> int:
    row = conn.execute(
        "insert into ops.model_runs (run_id, model, layer, started_at, status, full_refresh, mode) "
        "values (%s, %s, %s, now(), 'running', %s, %s) returning model_run_id",
        (run_id, model.name, model.layer, full_refresh, mode),
    ).fetchone()
    return row[0]


def _record_end(conn: psycopg.Connection, model_run_id: int, result: ModelResult) -> None:
    conn.execute(
        "update ops.model_runs set finished_at = now(), duration_seconds = %s, rows = %s, "
        "status = %s, error = %s, rows_read = %s, rows_changed = %s where model_run_id = %s",
        (result.seconds, result.rows, result.status, result.error, result.rows_read,
         result.rows_changed, model_run_id),
    )


def choose_mode(conn: psycopg.Connection, model: Model, full_refresh: bool) -> str:
    """'full' when asked, on the first run, after a change to the model's file, or when a
    model it reads was fully rebuilt since its last run; 'incremental' otherwise."""
    if full_refresh:
        return "full"
    state = conn.execute("select checksum, needs_full from ops.model_state where model = %s",
                         (model.name,)).fetchone()
    if state is None:
        log.info("%s: no earlier run recorded, so a full refresh", model.name)
        return "full"
    checksum, needs_full = state
    if checksum != model.checksum:
        log.info("%s: %s changed since its last run, so a full refresh", model.name,
                 _display_path(model.path))
        return "full"
    if needs_full:
        log.info("%s: a model it reads was fully rebuilt, so a full refresh", model.name)
        return "full"
    return "incremental"


def _record_state(conn: psycopg.Connection, model: Model, run_id: str, mode: str,
                  descendants: tuple[str, ...]) -> None:
    """In the model's transaction: its checksum, and after a full refresh, the models that
    read it (directly or not) owe one too."""
    conn.execute(
        "insert into ops.model_state (model, checksum, needs_full, run_id, updated_at) "
        "values (%s, %s, false, %s, now()) on conflict (model) do update set "
        "checksum = excluded.checksum, needs_full = false, run_id = excluded.run_id, "
        "updated_at = now()",
        (model.name, model.checksum, run_id),
    )
    if mode == "full" and descendants:
        conn.execute("update ops.model_state set needs_full = true "
                     "where model = any(%s) and not needs_full", (sorted(descendants),))


def record_skipped(model: Model, run_id: str, full_refresh: bool, reason: str,
                   settings: Settings | None = None) -> ModelResult:
    """Record a model the chain did not start because something before it failed."""
    result = ModelResult(model.name, model.layer, "skipped", error=reason)
    with db.connect(settings, autocommit=True) as conn:
        conn.execute(
            "insert into ops.model_runs (run_id, model, layer, started_at, finished_at, "
            "duration_seconds, status, error, full_refresh) "
            "values (%s, %s, %s, now(), now(), 0, 'skipped', %s, %s)",
            (run_id, model.name, model.layer, reason, full_refresh),
        )
    return result


def _detach_indexes(conn: psycopg.Connection, model: Model) -> list[str]:
    """Drop the indexes and unique constraints of the tables a model rebuilds; return the
    statements that re-create them, exactly as the migrations defined them.

    Inside the model's transaction, so readers never see a table without its indexes.
    Rebuilding an index once after the load sorts once, which is several times faster than
    maintaining it row by row while a million rows are inserted in random key order. On a
    partitioned table, dropping an index or key drops it in every partition, and
    re-creating it builds it in every partition, those the model created included.
    """
    tables = [t for t in model.builds]
    found = conn.execute(
        """
        select format('alter table %%s drop constraint %%I', c.conrelid::regclass, c.conname),
               format('alter table %%s add constraint %%I %%s', c.conrelid::regclass, c.conname,
                      pg_get_constraintdef(c.oid))
        from pg_constraint as c
        where c.conrelid = any(%s::regclass[]) and c.contype in ('p', 'u')
          -- a key that a foreign key refers to stays (it cannot be dropped)
          and not exists (select 1 from pg_constraint as f
                          where f.contype = 'f' and f.conindid = c.conindid)
        union all
        select format('drop index %%s', i.indexrelid::regclass),
               -- the index of a partitioned table reads 'ON ONLY t', which would create it
               -- on the parent alone (invalid); 'ON t' builds it on every partition too
               case when x.relkind = 'I'
                    then regexp_replace(pg_get_indexdef(i.indexrelid), ' ON ONLY ', ' ON ')
                    else pg_get_indexdef(i.indexrelid) end
        from pg_index as i
        join pg_class as x on x.oid = i.indexrelid
        where i.indrelid = any(%s::regclass[])
          and not exists (select 1 from pg_constraint as c where c.conindid = i.indexrelid)
        """,
        (tables, tables),
    ).fetchall()
    for drop, _ in found:
        conn.execute(drop)
    log.info("%s: %d indexes and constraints are rebuilt after the load", model.name, len(found))
    return [create for _, create in found]


def _statement_counts(model: Model, statement: str, cur: psycopg.Cursor,
                      rows: int | None) -> tuple[int | None, int]:
    """(rows read, rows changed) that one statement contributes to the model's run; rows
    read is None for a statement not marked `-- counts: read`."""
    read, changed = None, 0
    marker = _COUNTS.search(statement)
    kind = marker.group(1).lower() if marker else None
    if kind == "read":
        read = rows or 0
    if kind == "changed" and cur.description is not None:
        value = cur.fetchone()
        changed = int(value[0]) if value and value[0] is not None else 0
    else:
        target = _DML_TARGET.search(_strip_comments(statement))
        if target and target.group(1).lower() in model.builds and rows is not None:
            changed = rows
    return read, changed


def _display_path(path: Path) -> str:
    return str(path.relative_to(PROJECT_ROOT)) if path.is_relative_to(PROJECT_ROOT) else str(path)


def _summary(statement: str) -> str:
    text = " ".join(_strip_comments(statement).split())
    return text if len(text) <= 90 else text[:87] + "..."


def configure_session(conn: psycopg.Connection, run_id: str, mode: str) -> None:
    """The settings of a model's transaction (local to it), by mode."""
    conn.execute("select set_config('medallion.run_id', %s, true)", (run_id,))
    conn.execute("select set_config('medallion.full_refresh', %s, true)",
                 ("on" if mode == "full" else "off",))
    conn.execute("select set_config('medallion.mode', %s, true)", (mode,))
    # Sorts and hashes of a few million rows fit in memory instead of spilling.
    conn.execute("select set_config('work_mem', %s, true)", (WORK_MEM,))
    # The parsers inline into large expressions: compiling them with JIT costs
    # seconds per query and gains nothing on these plans.
    conn.execute("select set_config('jit', 'off', true)")
    if mode == "full":
        # Temporary tables of a million rows stay in this session's buffers instead of
        # going through the kernel page by page (the default is 8 MB). Allocated as used, and
        # settable only before the session first touches a temporary table: it is set here.
        conn.execute("select set_config('temp_buffers', %s, true)", (FULL_TEMP_BUFFERS,))
        # The indexes rebuilt after the load sort in memory.
        conn.execute("select set_config('maintenance_work_mem', %s, true)",
                     (FULL_MAINTENANCE_WORK_MEM,))
    if mode == "incremental":
        # An incremental run looks up a few thousand keys among millions of rows:
        # by index, from cache. With the default random_page_cost (4, spinning
        # disks) the planner scans whole tables for a few percent of their keys.
        conn.execute("select set_config('random_page_cost', %s, true)",
                     (INCREMENTAL_RANDOM_PAGE_COST,))


def run_model(model: Model, *, run_id: str, full_refresh: bool = False,
              settings: Settings | None = None, descendants: tuple[str, ...] = ()) -> ModelResult:
    """Run one model in a transaction, incrementally or as a full refresh (choose_mode);
    record it in ops.model_runs. Never raises for SQL errors: a failed model comes back
    with status 'failed' and the error. `descendants` are the models that read this one's
    tables, directly or not: after a full refresh they owe one too."""
    settings = settings or get_settings()
    result = ModelResult(model.name, model.layer, "running")
    started = time.perf_counter()
    with db.connect(settings, autocommit=True) as conn:
        mode = choose_mode(conn, model, full_refresh)
        result.mode = mode
        model_run_id = _record_start(conn, model, run_id, full_refresh, mode)
        statements = model.statements_for(mode)
        main_rows: int | None = None
        rows_read: int | None = None
        rows_changed = 0
        try:
            with conn.transaction():
                configure_session(conn, run_id, mode)
                if mode == "full":
                    rebuild = _detach_indexes(conn, model)
                    # Fresh statistics, so that the models reading these tables next in this
                    # run are planned for what the tables hold now, not what they held before.
                    analyze = [psycopg.sql.SQL("analyze {}").format(
                        psycopg.sql.Identifier(*table.split(".", 1))) for table in model.builds]
                    statements = statements + rebuild + analyze
                for i, statement in enumerate(statements, 1):
                    t0 = time.perf_counter()
                    cur = conn.execute(statement)
                    if isinstance(statement, psycopg.sql.Composable):
                        statement = statement.as_string(conn)
                    seconds = time.perf_counter() - t0
                    rows = cur.rowcount if cur.rowcount is not None and cur.rowcount >= 0 else None
                    result.statements.append({"statement": _summary(statement), "rows": rows,
                                              "seconds": seconds})
                    log.info("%s [%d/%d] %s rows in %.3f s: %s", model.name, i, len(statements),
                             "-" if rows is None else rows, seconds, _summary(statement))
                    target = _INSERT_TARGET.search(_strip_comments(statement))
                    if target and target.group(1).lower() == model.name and rows is not None:
                        main_rows = (main_rows or 0) + rows
                    read, changed = _statement_counts(model, statement, cur, rows)
                    if read is not None:
                        rows_read = (rows_read or 0) + read
                    rows_changed += changed
                if mode == "incremental":
                    # `rows` keeps its meaning (the console reads it as the table's size):
                    # the rows the model's table holds after the run, not those it inserted.
                    schema_name, table_name = model.name.split(".", 1)
                    main_rows = conn.execute(psycopg.sql.SQL("select count(*) from {}").format(
                        psycopg.sql.Identifier(schema_name, table_name))).fetchone()[0]
                _record_state(conn, model, run_id, mode, descendants)
            result.status = "success"
            result.rows = main_rows
            result.rows_read, result.rows_changed = rows_read, rows_changed
        except psycopg.Error as exc:
            result.status = "failed"
            message = str(exc).strip() or type(exc).__name__
            result.error = f"{_display_path(model.path)}: {message}"
            result.retryable = isinstance(exc, (psycopg.OperationalError,
                                                psycopg.errors.SerializationFailure,
                                                psycopg.errors.DeadlockDetected))
            log.error("%s failed and was rolled back: %s", model.name, message)
        except BaseException as exc:
            # Not a database error (a bug, an interrupt): record the failure, then let it go.
            result.status = "failed"
            result.error = f"{_display_path(model.path)}: {type(exc).__name__}: {exc}"
            result.seconds = time.perf_counter() - started
            if not conn.closed:
                _record_end(conn, model_run_id, result)
            raise
        result.seconds = time.perf_counter() - started
        if conn.closed:
            with db.connect(settings, autocommit=True) as again:
                _record_end(again, model_run_id, result)
        else:
            _record_end(conn, model_run_id, result)
    if result.status == "success":
        log.info("%s built (%s): %s rows read, %s rows changed in %.2f s", model.name, mode,
                 result.rows_read, result.rows_changed, result.seconds)
    return result


# ------------------------------------------------------------------ the executor

def model_descendants(models: list[Model]) -> dict[str, tuple[str, ...]]:
    """For each model, every product model that reads its tables, directly or not (all
    layers, not only those of this run: a silver-only full refresh leaves gold owing one)."""
    known = {m.name: m for m in discover()}
    known.update({m.name: m for m in models})
    deps = model_dependencies(list(known.values()))
    result: dict[str, tuple[str, ...]] = {}
    for name in known:
        found: set[str] = set()
        frontier = {name}
        while frontier:
            frontier = {n for n, d in deps.items() if d & frontier} - found
            found |= frontier
        result[name] = tuple(sorted(found - {name}))
    return result


def run_models(models: list[Model], *, run_id: str, full_refresh: bool = False,
               settings: Settings | None = None, max_workers: int = MAX_WORKERS) -> list[ModelResult]:
    """Run models in dependency order, independent ones in parallel; stop at a failure.

    Returns the results in completion order. On a failure, the models not yet started are
    recorded as skipped and ModelFailed (or ModelInterrupted) is raised with every result.
    """
    settings = settings or get_settings()
    deps = model_dependencies(models)
    by_name = {m.name: m for m in order_models(models)}
    readers = model_descendants(models)
    results: list[ModelResult] = []
    finished: set[str] = set()
    failure: ModelResult | None = None
    with db.connect(settings, autocommit=True) as lock_conn:
        lock_conn.execute("select pg_advisory_lock(%s)", (_TRANSFORM_LOCK_KEY,))
        try:
            with ThreadPoolExecutor(max_workers=max(1, max_workers),
                                    thread_name_prefix="sql-model") as pool:
                running: dict[Future, str] = {}
                pending = list(by_name)
                lock = threading.Lock()
                while pending or running:
                    if failure is None:
                        for name in [n for n in pending if deps[n] <= finished]:
                            if len(running) >= max_workers:
                                break
                            pending.remove(name)
                            running[pool.submit(run_model, by_name[name], run_id=run_id,
                                                full_refresh=full_refresh, settings=settings,
                                                descendants=readers.get(name, ()))] = name
                    if not running:
                        break
                    done, _ = wait(list(running), return_when=FIRST_COMPLETED)
                    for future in done:
                        name = running.pop(future)
                        result = future.result()
                        with lock:
                            results.append(result)
                        if result.status == "success":
                            finished.add(name)
                        elif failure is None:
                            failure = result
                for name in pending:
                    results.append(record_skipped(by_name[name], run_id, full_refresh,
                                                  f"not run: {failure.name} failed" if failure
                                                  else "not run", settings))
        finally:
            lock_conn.execute("select pg_advisory_unlock(%s)", (_TRANSFORM_LOCK_KEY,))
    if failure is not None:
        message = f"model {failure.name} failed (rolled back; later models not run): {failure.error}"
        if failure.retryable:
            raise ModelInterrupted(message, results)
        raise ModelFailed(message, results)
    return results
