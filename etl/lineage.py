"""Lineage: raw file patterns -> bronze tables (and the MongoDB collection) -> silver -> gold
-> Soda checks, built from what the project already declares, never from a hand-written list.

- raw patterns: `etl.ingest.discover.PATTERNS` (one node per entity);
- raw -> bronze and the MongoDB collection: the `extra` of the DAG assets in
  `dags/common/assets.py` (`entities`, `tables`, `mongo`), read as Python source (no Airflow
  import): an asset's raw entities feed the `bronze.<entity>` tables of the assets;
- bronze -> silver -> gold: the SQL models (`etl.sql_runner.discover`): what each model
  builds, its `depends_on`, and the `bronze.*` tables its SQL reads;
- checks: one node per `checks/<layer>/<table>.yml`, with its number of checks;
- which DAG builds a table: the DAG files in `dags/` (`@dag(dag_id=...)`), through the
  assets their tasks emit (`outlets=[...]`) and their `build_<layer>` tasks.

`to_dot` renders the graph as Graphviz DOT, with per-node annotations given by the caller
(row counts, check outcomes, ages), so this module stays free of any database access.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from etl.settings import PROJECT_ROOT

KINDS = ("raw", "bronze", "mongo", "silver", "gold", "checks")
_BRONZE_REFERENCE = re.compile(r"\bbronze\.([a-z_][a-z0-9_]*)\b(?!\s*\()", re.IGNORECASE)
_COMMENTS = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)


@dataclass(frozen=True)
class Node:
    """One box of the graph: a raw pattern group, a table, the collection, or a checks file."""

    node_id: str           # raw:users | bronze.users | mongo:bronze_content_json | silver.users | checks:silver.users
    kind: str              # one of KINDS
    label: str             # what the box says first
    detail: str = ""       # the patterns of a raw node, the checks file of a checks node
    table: str | None = None  # the table a node stands for (checks: the table checked)
    checks: int = 0        # number of checks (checks nodes)
    model: str | None = None  # the SQL model that builds the table (silver, gold)


@dataclass
class Lineage:
    """Nodes, edges (upstream, downstream) and the DAG that builds each node."""

    nodes: dict[str, Node] = field(default_factory=dict)
    edges: set[tuple[str, str]] = field(default_factory=set)
    built_by: dict[str, str] = field(default_factory=dict)   # node_id -> dag_id

    def add(self, node: Node) -> None:
        self.nodes.setdefault(node.node_id, node)

    def link(self, upstream: str, downstream: str) -> None:
        if upstream in self.nodes and downstream in self.nodes and upstream != downstream:
            self.edges.add((upstream, downstream))

    def upstream(self, node_id: str) -> list[str]:
        return sorted(a for a, b in self.edges if b == node_id)

    def downstream(self, node_id: str) -> list[str]:
        return sorted(b for a, b in self.edges if a == node_id)

    def of_kind(self, *kinds: str) -> list[Node]:
        order = {k: i for i, k in enumerate(KINDS)}
        return sorted((n for n in self.nodes.values() if n.kind in kinds),
                      key=lambda n: (order[n.kind], n.node_id))


# ------------------------------------------------------------------ reading the sources

@dataclass(frozen=True)
class AssetSpec:
    """An Asset of dags/common/assets.py: its variable, name and `extra`."""

    variable: str
    name: str
    extra: dict


def read_assets(path: Path) -> dict[str, AssetSpec]:
    """The `NAME = Asset(name=..., extra={...})` assignments of an assets file, by variable."""
    found = {}
    for stmt in ast.parse(path.read_text(encoding="utf-8")).body:
        if not (isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call)
                and _call_name(stmt.value) == "Asset" and isinstance(stmt.targets[0], ast.Name)):
            continue
        kwargs = {kw.arg: kw.value for kw in stmt.value.keywords}
        name = ast.literal_eval(kwargs["name"]) if "name" in kwargs else (
            ast.literal_eval(stmt.value.args[0]) if stmt.value.args else stmt.targets[0].id)
        extra = ast.literal_eval(kwargs["extra"]) if "extra" in kwargs else {}
        found[stmt.targets[0].id] = AssetSpec(stmt.targets[0].id, name, extra)
    return found


@dataclass(frozen=True)
class DagSpec:
    """What a DAG file says about itself: its id, the assets its tasks emit, its task names."""

    dag_id: str
    outlets: tuple[str, ...]   # asset variables
    tasks: tuple[str, ...]


def read_dag(path: Path) -> DagSpec | None:
    """The dag_id, outlet assets and task names of one DAG file (None if it defines no DAG)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    dag_id, outlets, tasks = None, [], []
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef):
            continue
        for deco in node.decorator_list:
            if not isinstance(deco, (ast.Call, ast.Name, ast.Attribute)):
                continue
            name = _call_name(deco) if isinstance(deco, ast.Call) else _dotted(deco)
            kwargs = {kw.arg: kw.value for kw in getattr(deco, "keywords", [])}
            if name == "dag":
                dag_id = ast.literal_eval(kwargs["dag_id"]) if "dag_id" in kwargs else node.name
            elif name in ("task", "task.python"):
                tasks.append(node.name)
                value = kwargs.get("outlets")
                if isinstance(value, (ast.List, ast.Tuple)):
                    outlets.extend(e.id for e in value.elts if isinstance(e, ast.Name))
    return None if dag_id is None else DagSpec(dag_id, tuple(outlets), tuple(tasks))


def read_checks(checks_dir: Path) -> dict[str, tuple[Path, int]]:
    """table -> (checks file, number of checks) for every `checks/<layer>/<table>.yml`."""
    found = {}
    for path in sorted(checks_dir.glob("*/*.yml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for key, checks in document.items():
            if isinstance(key, str) and key.startswith("checks for "):
                found[key.removeprefix("checks for ").strip()] = (path, len(checks or []))
    return found


def _call_name(call: ast.Call) -> str:
    return _dotted(call.func)


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def bronze_reads(sql: str) -> set[str]:
    """The bronze tables a model's SQL reads (comments ignored)."""
    return {f"bronze.{t.lower()}" for t in _BRONZE_REFERENCE.findall(_COMMENTS.sub("", sql))}


# ------------------------------------------------------------------ building the graph

def build(root: Path = PROJECT_ROOT) -> Lineage:
    """The lineage of the project at `root` (its sql/, checks/ and dags/ folders)."""
    from etl import sql_runner
    from etl.ingest.discover import PATTERNS

    graph = Lineage()
    patterns: dict[str, list[str]] = defaultdict(list)
    for pattern, entity, _, _ in PATTERNS:
        patterns[entity].append(pattern)
    for entity, names in patterns.items():
        graph.add(Node(f"raw:{entity}", "raw", f"{entity} files", ", ".join(names)))

    assets = read_assets(root / "dags" / "common" / "assets.py")
    entities = {e for a in assets.values() for e in a.extra.get("entities", [])}
    for asset in assets.values():
        for table in asset.extra.get("tables", []):
            graph.add(Node(table, "bronze", table, table=table))
        for collection in asset.extra.get("mongo", []):
            graph.add(Node(f"mongo:{collection}", "mongo", collection,
                           "MongoDB collection", table=collection))
    for asset in assets.values():  # a collection is fed by the raw files of its tables
        for collection in asset.extra.get("mongo", []):
            for table in asset.extra.get("tables", []):
                graph.link(f"raw:{table.split('.', 1)[1]}", f"mongo:{collection}")
    for entity in entities:
        graph.link(f"raw:{entity}", f"bronze.{entity}")

    models = sql_runner.discover(sql_runner.LAYERS, root / "sql")
    for model in models:
        for table in model.builds:
            graph.add(Node(table, model.layer, table, str(model.path.relative_to(root)),
                           table=table, model=model.name))
    for model in models:
        for table in model.builds:
            for upstream in sorted(model.depends_on | bronze_reads(model.sql)):
                graph.link(upstream, table)

    for table, (path, count) in read_checks(root / "checks").items():
        if table in graph.nodes:
            node_id = f"checks:{table}"
            graph.add(Node(node_id, "checks", f"{count} checks",
                           str(path.relative_to(root)), table=table, checks=count))
            graph.link(table, node_id)

    _assign_builders(graph, assets, root / "dags")
    return graph


def _assign_builders(graph: Lineage, assets: dict[str, AssetSpec], dags_dir: Path) -> None:
    """Which DAG builds each node: the tables (and raw entities) of the assets it emits,
    and every table of a layer whose `build_<layer>` task it runs."""
    for path in sorted(dags_dir.glob("*.py")):
        spec = read_dag(path)
        if spec is None:
            continue
        for variable in spec.outlets:
            extra = assets[variable].extra if variable in assets else {}
            for entity in extra.get("entities", []):
                graph.built_by.setdefault(f"raw:{entity}", spec.dag_id)
            for table in extra.get("tables", []):
                graph.built_by.setdefault(table, spec.dag_id)
            for collection in extra.get("mongo", []):
                graph.built_by.setdefault(f"mongo:{collection}", spec.dag_id)
        for task in spec.tasks:
            layer = task.removeprefix("build_") if task.startswith("build_") else None
            for node in graph.of_kind(layer) if layer in KINDS else []:
                graph.built_by.setdefault(node.node_id, spec.dag_id)
    for node in graph.of_kind("checks"):  # a table's checks run in the DAG that builds it
        if node.table in graph.built_by:
            graph.built_by[node.node_id] = graph.built_by[node.table]


# ------------------------------------------------------------------ rendering

STATE_COLORS = {"pass": "#c6f6d5", "warn": "#fefcbf", "fail": "#fed7d7", "error": "#e9d8fd",
                "stale": "#fed7d7", None: "#ffffff"}
KIND_STYLES = {"raw": ("folder", "#edf2f7"), "bronze": ("box", "#f6e0d3"),
               "mongo": ("cylinder", "#e6fffa"), "silver": ("box", "#edf2f7"),
               "gold": ("box", "#fdf3c4"), "checks": ("note", "#ffffff")}
LAYER_TITLES = {"raw": "raw files", "bronze": "bronze (PostgreSQL + MongoDB)",
                "silver": "silver", "gold": "gold"}


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(graph: Lineage, notes: dict[str, list[str]] | None = None,
           states: dict[str, str | None] | None = None, selected: str | None = None) -> str:
    """Graphviz DOT of the graph, left to right, one cluster per layer. `notes` adds lines
    under a node's label (rows, age, outcome); `states` fills a node by its outcome
    (pass | warn | fail | error | stale); `selected` gets a thick border, and its direct
    neighbours' edges are drawn bold."""
    notes, states = notes or {}, states or {}
    lines = ["digraph lineage {", "  rankdir=LR; ranksep=0.6; nodesep=0.12;",
             '  node [fontname="sans-serif", fontsize=10, style="filled,rounded", margin="0.08,0.04"];',
             '  edge [color="#a0aec0", arrowsize=0.6];']
    clusters = {"raw": ["raw"], "bronze": ["bronze", "mongo"], "silver": ["silver"],
                "gold": ["gold"]}
    for name, kinds in clusters.items():
        lines.append(f"  subgraph cluster_{name} {{ label={_quote(LAYER_TITLES[name])}; "
                     'fontname="sans-serif"; fontsize=11; color="#cbd5e0"; style="rounded";')
        for node in graph.of_kind(*kinds):
            lines.append("    " + _node(node, notes, states, selected))
        # a table's checks sit next to it, inside its layer's box
        for node in graph.of_kind("checks"):
            if node.table.split(".", 1)[0] in kinds:
                lines.append("    " + _node(node, notes, states, selected))
        lines.append("  }")
    for upstream, downstream in sorted(graph.edges):
        bold = selected in (upstream, downstream)
        lines.append(f"  {_quote(upstream)} -> {_quote(downstream)}"
                     + (' [color="#2b6cb0", penwidth=2]' if bold else "") + ";")
    lines.append("}")
    return "\n".join(lines)


def _node(node: Node, notes: dict, states: dict, selected: str | None) -> str:
    shape, fill = KIND_STYLES[node.kind]
    state = states.get(node.node_id)
    if state in STATE_COLORS and state is not None:
        fill = STATE_COLORS[state]
    text = "\n".join([node.label, *notes.get(node.node_id, [])])
    attrs = [f"label={_quote(text)}", f"shape={shape}", f'fillcolor="{fill}"',
             f"tooltip={_quote(node.detail or node.label)}"]
    if node.kind == "checks":
        attrs.append("fontsize=9")
    if node.node_id == selected:
        attrs.append('penwidth=3, color="#2b6cb0"')
    return f"{_quote(node.node_id)} [{', '.join(attrs)}];"
