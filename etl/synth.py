"""Realistic, dirty raw files for the pipeline (`medallion generate`).

The generator writes what a streaming platform's exports look like, in the raw
landing layout of the data contract (section 1), and injects every kind of dirt
the contract handles (section 3) at roughly `dirty_rate`. Each defect is
injected on a row that is otherwise valid, so it leads to exactly one outcome;
`GenerateReport.expected` says what silver must make of the files (rows kept,
superseded and rejected per reason) and `GenerateReport.dirt` how many of each
defect were written, so pipeline tests can assert on them.

Design for scale: rows are produced by generator functions (`iter_users`,
`iter_content`, `iter_sessions`) and written in small batches; nothing holds
all sessions. Ids are derived from indexes (`u0000042`, `s000000042`, content
`42`), content popularity and user activity are drawn with closed-form inverse
CDFs, so memory is constant in the number of sessions (O(contents) for the
duration table). The same arguments always give the same bytes: every random
draw comes from `random.Random` seeded by a string, gzip headers carry no
timestamp, and the default end date is fixed.

Files (relative to the output folder; byte order of the paths is ingestion
order):

- `users.csv`: UTF-8, LF, most users, one blank line, rows with empty keys.
- `users_intl_cp1252.csv`: cp1252, users with accented names.
- `users_updates.csv`: UTF-8 with BOM, CRLF, header in other case and order,
  an extra column: later (and some stale or undated) versions of users.
- `content.json`: one JSON array, wrong types and documents without a key.
- `content_updates.jsonl`: JSONL, later versions of contents, a blank line.
- `sessions/viewing_sessions_YYYY-MM_NNN.csv[.gz]`: one file per month (and
  per million rows), every other file gzipped; repeated session ids.
- `README.txt`: a note, to be ignored by ingestion.
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import math
import random
import time
from array import array
from collections import deque
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

from etl.errors import TerminalError

log = logging.getLogger(__name__)

#: Used when no end date is given, so that a seed alone fixes the bytes.
DEFAULT_END_DATE = date(2026, 9, 30)
#: `medallion generate` defaults (etl/cli.py), also used when `main` gets a partial namespace.
CLI_DEFAULTS = {"users": 1000, "sessions": 20000, "contents": 300, "days": 60, "seed": 42,
                "dirty_rate": 0.02}
#: Session files are split per month and, within a month, after this many rows.
MAX_SESSION_ROWS_PER_FILE = 1_000_000

USERS_COLUMNS = ("user_id", "email", "full_name", "country", "signup_date",
                 "subscription_tier", "birth_year", "updated_at")
SESSIONS_COLUMNS = ("session_id", "user_id", "content_id", "started_at", "ended_at",
                    "watch_seconds", "device")
# The updates file names its columns in another case and order, with an extra one.
UPDATES_HEADER = (" User_ID", "UPDATED_AT", "Subscription_Tier", "Email", "full_name",
                  "Country", "signup_date", "birth_year", "change_reason")

USER_DIRT = ("missing_key", "invalid_email", "invalid_signup_date", "invalid_country",
             "invalid_birth_year", "unknown_tier", "whitespace_case_noise", "quoted_name",
             "offset_updated_at")
USER_UPDATE_KINDS = ("newer_version", "stale_version", "undated_version")
CONTENT_DIRT = ("missing_key", "id_as_string", "duration_as_string", "genres_as_string",
                "genre_noise", "type_case_noise", "unknown_type", "invalid_duration",
                "invalid_rating", "title_not_string", "cast_noise", "invalid_release_year")
CONTENT_UPDATE_KINDS = ("newer_version", "newer_version_string_id", "stale_version",
                        "undated_version")
SESSION_DIRT = ("missing_key", "invalid_timestamp", "invalid_measure", "negative_duration",
                "orphan_user", "orphan_content", "duplicate", "corrected_resend",
                "whitespace_case_noise", "offset_timestamp", "derived_watch_seconds",
                "unknown_device")

_SESSION_REJECTS = ("missing_key", "invalid_timestamp", "invalid_measure",
                    "negative_duration", "orphan_user", "orphan_content")

# ---------------------------------------------------------------- vocabularies

# (display name, ASCII form for e-mail addresses)
_FIRST = [("James", "james"), ("Mary", "mary"), ("John", "john"), ("Patricia", "patricia"),
          ("Robert", "robert"), ("Jennifer", "jennifer"), ("Michael", "michael"),
          ("Linda", "linda"), ("David", "david"), ("Emma", "emma"), ("Ana", "ana"),
          ("Lucas", "lucas"), ("Sofia", "sofia"), ("Mateo", "mateo"), ("Olivia", "olivia"),
          ("Noah", "noah"), ("Mia", "mia"), ("Liam", "liam"), ("Priya", "priya"),
          ("Arjun", "arjun"), ("Yuki", "yuki"), ("Hana", "hana"), ("Omar", "omar"),
          ("Fatima", "fatima"), ("Lena", "lena"), ("Jonas", "jonas"), ("Chloe", "chloe"),
          ("Hugo", "hugo"), ("Grace", "grace"), ("Daniel", "daniel")]
_LAST = [("Smith", "smith"), ("Johnson", "johnson"), ("Williams", "williams"),
         ("Brown", "brown"), ("Jones", "jones"), ("Garcia", "garcia"), ("Miller", "miller"),
         ("Davis", "davis"), ("Silva", "silva"), ("Santos", "santos"), ("Lima", "lima"),
         ("Sharma", "sharma"), ("Patel", "patel"), ("Tanaka", "tanaka"), ("Sato", "sato"),
         ("Schmidt", "schmidt"), ("Fischer", "fischer"), ("Martin", "martin"),
         ("Bernard", "bernard"), ("Taylor", "taylor"), ("Wilson", "wilson"),
         ("Lopez", "lopez"), ("Hernandez", "hernandez"), ("Kim", "kim"), ("Nguyen", "nguyen")]
# Encodable in cp1252 (the legacy export holds only these).
_FIRST_CP1252 = [("José", "jose"), ("Zoë", "zoe"), ("François", "francois"),
                 ("Søren", "soren"), ("Ångela", "angela"), ("Jürgen", "jurgen"),
                 ("Inês", "ines"), ("Begoña", "begona"), ("Maëlle", "maelle"),
                 ("Štefan", "stefan"), ("Œlise", "oelise"), ("Renée", "renee")]
_LAST_CP1252 = [("Müller", "muller"), ("Álvarez", "alvarez"), ("Gonçalves", "goncalves"),
                ("Núñez", "nunez"), ("Ødegård", "odegard"), ("Šimek", "simek"),
                ("Björk", "bjork"), ("Lefèvre", "lefevre"), ("Weiß", "weiss"),
                ("Žižek", "zizek"), ("Peña", "pena"), ("Crâne", "crane")]
# Beyond cp1252: only in the UTF-8 files.
_FIRST_INTL = [("Łukasz", "lukasz"), ("Nguyễn", "nguyen"), ("Dvořák", "dvorak"),
               ("Małgorzata", "malgorzata"), ("Thảo", "thao"), ("Ağca", "agca")]
_DOMAINS = ("gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "proton.me",
            "icloud.com", "example.org", "mail.de", "uol.com.br", "yandex.ru")
_COUNTRIES = (("US", 26), ("BR", 12), ("GB", 8), ("IN", 10), ("DE", 6), ("FR", 5),
              ("MX", 5), ("CA", 4), ("ES", 4), ("JP", 4), ("IT", 3), ("AU", 3),
              ("PT", 2), ("NL", 2), ("SE", 2), ("PL", 2), ("AR", 2))
_TIERS = (("free", 45), ("basic", 20), ("standard", 22), ("premium", 13))

_GENRES = ("drama", "comedy", "thriller", "action", "documentary", "sci-fi", "romance",
           "horror", "animation", "crime", "family", "nature", "history", "fantasy")
_TYPES = (("movie", 40, 85, 170), ("series", 40, 22, 60), ("documentary", 12, 45, 110),
          ("short", 8, 4, 20))
_MATURITY = ("G", "PG", "PG-13", "R", "TV-14", "TV-MA", "TV-PG")
_TITLE_A = ("Silent", "Broken", "Last", "Golden", "Hidden", "Midnight", "Frozen", "Wild",
            "Crimson", "Distant", "Electric", "Lost", "Endless", "Hollow", "Northern",
            "Paper", "Velvet", "Burning", "Quiet", "Iron")
_TITLE_B = ("River", "Empire", "Garden", "Signal", "Harbor", "Machine", "Kingdom", "Road",
            "Summer", "Ocean", "Witness", "Protocol", "Frontier", "Orchard", "Lantern",
            "Circuit", "Voyage", "Café", "Mountain", "Echo")
_ROLES = ("lead", "supporting", "director", "narrator", "guest")

_DEVICES = ("mobile", "tv", "web", "tablet")
_DEVICE_NOISE = ("TV", "Mobile", "WEB", " tablet", "Tv ", "\tmobile")
_DEVICE_OTHER = ("Smart TV", "console", "", "chromecast", "VR headset")

# Relative viewing per UTC hour: low at night, a lunch bump, an evening peak.
_HOUR_WEIGHT = (0.9, 0.55, 0.32, 0.2, 0.15, 0.18, 0.3, 0.45, 0.55, 0.6, 0.62, 0.68,
                0.85, 0.8, 0.75, 0.8, 0.95, 1.2, 1.6, 2.1, 2.5, 2.4, 1.9, 1.4)
# Monday..Sunday; weekends also watch more in the daytime (see _slot_weights).
_WEEKDAY_WEIGHT = (0.9, 0.88, 0.9, 0.95, 1.15, 1.35, 1.3)

_BAD_TIMESTAMPS = ("now", "{d}T24:00:00Z", "epoch", "infinity", "2026-02-30T20:00:00Z",
                   "{d}T20:00:00+24:00", "{d} 7pm", "1790000000",
                   "yesterday", "{d}T20:00", "-infinity")
_BAD_MEASURES = ("12.5", "abc", "1e3", '"1,200"', "99999999999999999999", "NaN", "30s")
_BAD_EMAILS = ("{a}.example.com", "{a}@example", "{a}@@example.com", "{a} @mail.com",
               "@example.com", "{a}@", "{a}@mail .com")
_BAD_DATES = ("2024-02-30", "2023-02-29", "2024/13/01", "31/12/2023", "2024-00-10",
              "2024-1-5", "not a date")
_BAD_COUNTRIES = ("USA", "Brasil", "", "U.S.", "b", "123")
_BAD_BIRTH_YEARS = ("1850", "19x0", "", "3000", "1985.5", "eighty")
_BAD_TIERS = ("gold", "", "trial", "vip", "free-plus")


# ---------------------------------------------------------------- report

@dataclass
class FileReport:
    """One written file: path relative to the output folder, its entity and rows."""

    path: str
    entity: str | None  # users | viewing_sessions | content, None for an ignored file
    rows: int  # data rows (CSV) or documents (JSON); blank lines not counted
    encoding: str = "utf-8"
    gzip: bool = False
    bom: bool = False
    crlf: bool = False
    bytes: int = 0


@dataclass
class EntityExpectation:
    """What silver must make of an entity's files (section 3 accounting)."""

    bronze_rows: int = 0
    silver_rows: int = 0
    superseded_rows: int = 0
    rejected: dict[str, int] = field(default_factory=dict)

    @property
    def rejected_rows(self) -> int:
        return sum(self.rejected.values())


@dataclass
class GenerateReport:
    """Files written and the counts a pipeline test can assert on.

    `expected[entity]` holds bronze, silver, superseded and rejected-per-reason
    row counts (`bronze = silver + superseded + rejected`). `dirt[entity]`
    counts each kind of defect written (keys of USER_DIRT, CONTENT_DIRT,
    SESSION_DIRT, the update kinds, and a few derived outcomes, e.g.
    `utc_date_shifted`). For users and content, field defects are only put on
    the surviving version of a key, so `users.invalid_email` equals the number
    of silver users whose email is null, and so on.
    """

    out: Path
    files: list[FileReport]
    expected: dict[str, EntityExpectation]
    dirt: dict[str, dict[str, int]]
    start_date: date
    end_date: date
    seconds: float = 0.0
    #: Raw files already in `out` that this run did not write (an earlier run's
    #: months, say): ingestion would load them too, so `expected` would not hold.
    other_files: list[str] = field(default_factory=list)

    @property
    def total_rows(self) -> int:
        return sum(f.rows for f in self.files)

    def file(self, path: str) -> FileReport:
        """The report of one file by relative path."""
        for f in self.files:
            if f.path == path:
                return f
        raise KeyError(path)

    def to_dict(self) -> dict:
        """A JSON-ready form (dates as ISO strings)."""
        data = asdict(self)
        data["out"] = str(self.out)
        data["start_date"] = self.start_date.isoformat()
        data["end_date"] = self.end_date.isoformat()
        for name, exp in self.expected.items():
            data["expected"][name]["rejected_rows"] = exp.rejected_rows
        return data


# ---------------------------------------------------------------- helpers

@dataclass(frozen=True)
class _Plan:
    users: int
    sessions: int
    contents: int
    days: int
    seed: int
    dirty_rate: float
    start: date
    end: date

    @property
    def start_ts(self) -> int:
        return _epoch(self.start)


def _epoch(d: date) -> int:
    return int(datetime(d.year, d.month, d.day, tzinfo=timezone.utc).timestamp())


class _Cadence:
    """Spreads `share` of n events at irregular intervals, and cycles through kinds.

    A jittered accumulator (not a coin per row) keeps the number of dirty rows
    close to share * n, so at least one per kind when the rate allows; the
    kinds are visited in a fresh shuffled order each round so every kind appears.
    """

    def __init__(self, rng: random.Random, share: float, kinds: tuple[str, ...]):
        self.rng = rng
        self.share = share
        self.kinds = kinds
        self.acc = rng.random() if share > 0 else 0.0
        self.queue: list[str] = []

    def tick(self) -> bool:
        if self.share <= 0:
            return False
        self.acc += self.share * (0.5 + self.rng.random())  # irregular gaps, same mean
        if self.acc >= 1.0:
            self.acc -= 1.0
            return True
        return False

    def next_kind(self) -> str:
        if not self.queue:
            self.queue = list(self.kinds)
            self.rng.shuffle(self.queue)
        return self.queue.pop()


def _share(rate: float, n: int, kinds: int) -> float:
    """The per-row share of dirty rows: `rate`, raised so each kind appears at least once."""
    if rate <= 0 or n <= 0:
        return 0.0
    return min(1.0, max(rate, (kinds + 3) / n))


def _weighted(items) -> tuple[tuple, array]:
    values = tuple(v for v, *_ in items)
    total = float(sum(w for _, w, *_ in items))
    cum, acc = array("d"), 0.0
    for _, w, *_ in items:
        acc += w / total
        cum.append(acc)
    cum[-1] = 1.0
    return values, cum


def _pick(values, cum, x: float):
    for i, c in enumerate(cum):
        if x < c:
            return values[i]
    return values[-1]


def _nth(variants, count: int):
    """The count-th (1-based) variant, cycling, so every variant appears once there are enough."""
    return variants[(count - 1) % len(variants)]


def _coprime_step(n: int) -> int:
    """A multiplier coprime to n, to permute 0..n-1 (popularity rank -> id)."""
    step = max(1, int(n * 0.6180339887)) | 1
    while math.gcd(step, n) != 1:
        step += 1
    return step


class _Clock:
    """Fast ISO 8601 formatting of epoch seconds, caching the hour prefix."""

    def __init__(self):
        self.cache: dict[int, str] = {}

    def prefix(self, ts: int, sep: str = "T") -> str:
        hour = ts // 3600
        key = hour * 2 + (sep == " ")
        p = self.cache.get(key)
        if p is None:
            dt = datetime.fromtimestamp(hour * 3600, timezone.utc)
            p = dt.strftime(f"%Y-%m-%d{sep}%H:")
            if len(self.cache) > 200_000:
                self.cache.clear()
            self.cache[key] = p
        return p

    def fmt(self, ts: int, suffix: str = "Z", sep: str = "T") -> str:
        rem = ts % 3600
        return f"{self.prefix(ts, sep)}{rem // 60:02d}:{rem % 60:02d}{suffix}"

    def local(self, ts: int, offset_s: int, sep: str = "T", frac: str = "") -> str:
        """ts written as local time at offset_s, with its ±HH:MM suffix."""
        sign = "+" if offset_s >= 0 else "-"
        a = abs(offset_s)
        return self.fmt(ts + offset_s, f"{frac}{sign}{a // 3600:02d}:{a % 3600 // 60:02d}", sep)


def _csv_quote(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


class _Sink:
    """A raw file written in batches: encoding, BOM, CRLF and gzip are its business."""

    def __init__(self, out: Path, rel: str, entity: str | None, *, encoding: str = "utf-8",
                 bom: bool = False, crlf: bool = False, compress: bool = False,
                 json_array: bool = False):
        self.path = out / rel
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.raw = open(self.path, "wb")
        self.fh = (gzip.GzipFile(filename="", mode="wb", fileobj=self.raw, mtime=0,
                                 compresslevel=5) if compress else self.raw)
        self.report = FileReport(rel, entity, 0, encoding, compress, bom, crlf)
        self.encoding = encoding
        self.nl = "\r\n" if crlf else "\n"
        self.json_array = json_array
        self.buf: list[str] = []
        if bom:
            self.fh.write(b"\xef\xbb\xbf")
        if json_array:
            self.buf.append("[")

    def row(self, line: str) -> None:
        """One data row (or document) without its line terminator."""
        if self.json_array and self.report.rows:
            line = "," + self.nl + line
        elif self.json_array:
            line = self.nl + line
        else:
            line += self.nl
        self.buf.append(line)
        self.report.rows += 1
        if len(self.buf) >= 4096:
            self.flush()

    def rows(self, lines: list[str]) -> None:
        """Many CSV data rows at once (the fast path for sessions)."""
        if lines:
            self.flush()
            self.fh.write((self.nl.join(lines) + self.nl).encode(self.encoding))
            self.report.rows += len(lines)

    def text(self, line: str) -> None:
        """A line that is not a data row (header, blank line)."""
        self.buf.append(line + self.nl)

    def flush(self) -> None:
        if self.buf:
            self.fh.write("".join(self.buf).encode(self.encoding))
            self.buf.clear()

    def close(self) -> FileReport:
        if self.json_array:
            self.buf.append(self.nl + "]" + self.nl)
        self.flush()
        if self.fh is not self.raw:
            self.fh.close()
        self.raw.close()
        self.report.bytes = self.path.stat().st_size
        log.info("wrote %s: %d %s", self.report.path, self.report.rows,
                 "documents" if self.report.entity == "content" else "rows")
        return self.report


# ---------------------------------------------------------------- users

def iter_users(plan: _Plan, dirt: dict[str, int]) -> Iterator[tuple[str, str]]:
    """Yield (target, csv line) for users; target is `base`, `cp1252` or `updates`.

    Users 1..N each get one row in `base` (UTF-8) or `cp1252` (the last ~5%,
    accented names); some also get a row in `updates`. Field defects go only on
    the version that survives, so `dirt` counts equal silver outcomes.
    """
    rng = random.Random(f"{plan.seed}:users")
    rnd = rng.random
    n = plan.users
    cp_from = n - max(1, n // 20) + 1
    cadence = _Cadence(rng, _share(plan.dirty_rate, n, len(USER_DIRT)), USER_DIRT)
    updates = _Cadence(rng, _share(plan.dirty_rate, n, len(USER_UPDATE_KINDS)),
                       USER_UPDATE_KINDS)
    countries, country_cum = _weighted(_COUNTRIES)
    tiers, tier_cum = _weighted(_TIERS)
    clock = _Clock()
    window_start = plan.start_ts
    window_len = plan.days * 86400
    for i in range(1, n + 1):
        legacy = i >= cp_from
        if legacy:
            first = _FIRST_CP1252[int(rnd() * len(_FIRST_CP1252))]
            last = _LAST_CP1252[int(rnd() * len(_LAST_CP1252))]
        else:
            x = rnd()
            pool = _FIRST_INTL if x < 0.04 else _FIRST_CP1252 if x < 0.1 else _FIRST
            first = pool[int(rnd() * len(pool))]
            last = _LAST[int(rnd() * len(_LAST))]
        uid = f"u{i:07d}"
        name = f"{first[0]} {last[0]}"
        email = f"{first[1]}.{last[1]}{i}@{_DOMAINS[int(rnd() * len(_DOMAINS))]}"
        country = _pick(countries, country_cum, rnd())
        tier = _pick(tiers, tier_cum, rnd())
        birth = str(1950 + int((rnd() + rnd() + rnd()) / 3 * 58))
        signup_ts = window_start - 86400 - int(rnd() * 1000 * 86400)
        fmt = rnd()
        signup_day = clock.fmt(signup_ts)[:10]
        signup = (signup_day if fmt < 0.85 else signup_day.replace("-", "/") if fmt < 0.95
                  else clock.fmt(signup_ts))
        upd_ts = signup_ts + int(rnd() * 3600 * 6)
        updated_at = clock.fmt(upd_ts)

        update_kind = updates.next_kind() if updates.tick() else None
        kind = None
        if update_kind is None and cadence.tick():
            kind = cadence.next_kind()
            dirt[kind] = dirt.get(kind, 0) + 1
            a = email.split("@")[0]
            if kind == "missing_key":
                yield ("base", ",".join(("" if rnd() < 0.5 else "   ", email, name, country,
                                         signup, tier, birth, updated_at)))
            elif kind == "invalid_email":
                email = _nth(_BAD_EMAILS, dirt[kind]).format(a=a)
                if "," in email or '"' in email:
                    email = _csv_quote(email)
            elif kind == "invalid_signup_date":
                signup = _nth(_BAD_DATES, dirt[kind])
            elif kind == "invalid_country":
                country = _nth(_BAD_COUNTRIES, dirt[kind])
            elif kind == "invalid_birth_year":
                birth = _nth(_BAD_BIRTH_YEARS, dirt[kind])
            elif kind == "unknown_tier":
                tier = _nth(_BAD_TIERS, dirt[kind])
            elif kind == "whitespace_case_noise":
                uid = f" {uid}\t" if rnd() < 0.5 else f"  {uid}"
                local, domain = email.split("@")
                email = f" {local.capitalize()}@{domain.upper()} "
                country = f" {country.lower()}"
                tier = f"{tier.upper()} " if rnd() < 0.5 else tier.capitalize()
                name = f" {name}  "
            elif kind == "quoted_name":
                name = _csv_quote(f"{last[0]}, {first[0]}" if rnd() < 0.5
                                  else f'{first[0]} "{first[0][:3]}" {last[0]}')
            elif kind == "offset_updated_at":
                off = (int(rnd() * 28) - 14) * 1800 or 3600
                updated_at = clock.local(upd_ts, off, sep=" " if rnd() < 0.5 else "T")
        yield ("cp1252" if legacy else "base",
               ",".join((uid, email, name, country, signup, tier, birth, updated_at)))

        if update_kind is not None:
            dirt[update_kind] = dirt.get(update_kind, 0) + 1
            new_tier = tiers[(tiers.index(tier) + 1 + int(rnd() * 3)) % len(tiers)]
            if update_kind == "newer_version":
                ts = window_start + int(rnd() * window_len)
                new_updated = (clock.local(ts, (int(rnd() * 20) - 10) * 3600) if rnd() < 0.3
                               else clock.fmt(ts))
                reason = "plan_change"
            elif update_kind == "stale_version":
                new_updated = clock.fmt(upd_ts - 86400 * (1 + int(rnd() * 30)))
                reason = "replayed_export"
            else:
                new_updated = ("now", "2026-02-30T10:00:00Z", "", "2026-13-01")[int(rnd() * 4)]
                reason = "manual_fix"
            # UPDATES_HEADER order: user_id, updated_at, tier, email, name, country,
            # signup_date, birth_year, change_reason.
            yield ("updates", ",".join((uid, new_updated, new_tier, email, name, country,
                                        signup, birth, reason)))


# ---------------------------------------------------------------- content

def _content_doc(k: int, rnd, clock: _Clock, types, type_cum,
                 updated_ts: int) -> tuple[dict, int]:
    """A clean content document for id k and its true duration in minutes."""
    ctype = _pick(types, type_cum, rnd())
    lo, hi = next((lo, hi) for t, _, lo, hi in _TYPES if t == ctype)
    duration = lo + int(rnd() * (hi - lo + 1))
    title = f"The {_TITLE_A[int(rnd() * len(_TITLE_A))]} {_TITLE_B[int(rnd() * len(_TITLE_B))]}"
    if ctype == "series":
        title += f": Season {1 + int(rnd() * 5)}"
    genres = []
    for _ in range(1 + int(rnd() * 3)):
        g = _GENRES[int(rnd() * len(_GENRES))]
        if g not in genres:
            genres.append(g)
    if ctype == "documentary" and "documentary" not in genres:
        genres.insert(0, "documentary")
    year = 1975 + int(rnd() ** 0.4 * 51)
    country = _COUNTRIES[int(rnd() * len(_COUNTRIES))][0]
    cast = [{"name": f"{_FIRST[int(rnd() * len(_FIRST))][0]} {_LAST[int(rnd() * len(_LAST))][0]}",
             "role": _ROLES[int(rnd() * len(_ROLES))]} for _ in range(int(rnd() * 4))]
    doc = {
        "content_id": k,
        "title": title,
        "content_type": ctype.capitalize() if rnd() < 0.3 else ctype,
        "genres": [g.capitalize() for g in genres],
        "duration_min": duration,
        "release": {"year": year, "country": country},
        "ratings": {"imdb": round(3.5 + rnd() * 5.5, 1), "votes": int(10 ** (1 + rnd() * 5))},
        "cast": cast,
        "maturity_rating": _MATURITY[int(rnd() * len(_MATURITY))],
        "updated_at": clock.fmt(updated_ts),
    }
    return doc, duration


def _dirty_content(doc: dict, kind: str, rnd) -> dict:
    """Apply one content defect in place (not missing_key, handled by the caller)."""
    if kind == "id_as_string":
        doc["content_id"] = str(doc["content_id"]) if rnd() < 0.6 else f" {doc['content_id']} "
    elif kind == "duration_as_string":
        doc["duration_min"] = str(doc["duration_min"]) if rnd() < 0.7 else f"{doc['duration_min']}.0"
    elif kind == "genres_as_string":
        doc["genres"] = doc["genres"][0]
    elif kind == "genre_noise":
        first = doc["genres"][0]
        doc["genres"] = [f" {first.upper()} ", first.lower(), "", 7, None, "Thriller ", "thriller"]
    elif kind == "type_case_noise":
        doc["content_type"] = f" {doc['content_type'].upper()} "
    elif kind == "unknown_type":
        if rnd() < 0.5:
            del doc["content_type"]
        else:
            doc["content_type"] = ("podcast", "live", "Trailer", 3)[int(rnd() * 4)]
    elif kind == "invalid_duration":
        doc["duration_min"] = (0, -12, "abc", "NaN", None, "Infinity")[int(rnd() * 6)]
    elif kind == "invalid_rating":
        doc["ratings"] = ({"imdb": 11.5, "votes": -5}, {"imdb": "n/a", "votes": 12.5},
                          {"imdb": -1, "votes": "many"})[int(rnd() * 3)]
    elif kind == "title_not_string":
        doc["title"] = (12345, None, "   ", ["Two", "Titles"])[int(rnd() * 4)]
    elif kind == "cast_noise":
        doc["cast"] = ["Just A Name", {"name": "Real Person", "role": "lead"}, 42,
                       {"name": "Second Person"}]
    elif kind == "invalid_release_year":
        doc["release"] = {"year": (1700, "19xx", 2999, 1999.5)[int(rnd() * 4)]}
    return doc


def iter_content(plan: _Plan, dirt: dict[str, int],
                 durations: array) -> Iterator[tuple[str, dict]]:
    """Yield (target, document) for contents 1..K; target is `array` or `jsonl`.

    Fills `durations[k]` with the true duration in minutes (for realistic
    watch times). Documents without a usable key are extra documents.
    """
    rng = random.Random(f"{plan.seed}:content")
    rnd = rng.random
    k_total = plan.contents
    cadence = _Cadence(rng, _share(plan.dirty_rate, k_total, len(CONTENT_DIRT)), CONTENT_DIRT)
    updates = _Cadence(rng, _share(plan.dirty_rate, k_total, len(CONTENT_UPDATE_KINDS)),
                       CONTENT_UPDATE_KINDS)
    types, type_cum = _weighted([(t, w) for t, w, _, _ in _TYPES])
    clock = _Clock()
    missing_key_docs = ({"title": "Untitled upload"}, {"content_id": "", "title": "Blank id"},
                        {"content_id": None, "title": "Null id"},
                        {"content_id": "   ", "title": "Spaces id"})
    for k in range(1, k_total + 1):
        # Catalogue metadata was last refreshed before the viewing window.
        base_ts = plan.start_ts - 86400 - int(rnd() * 700 * 86400)
        doc, duration = _content_doc(k, rnd, clock, types, type_cum, base_ts)
        durations[k] = duration
        update_kind = updates.next_kind() if updates.tick() else None
        if update_kind is None and cadence.tick():
            kind = cadence.next_kind()
            dirt[kind] = dirt.get(kind, 0) + 1
            if kind == "missing_key":
                bad = dict(_nth(missing_key_docs, dirt[kind]))
                bad["duration_min"] = duration
                yield ("jsonl" if rnd() < 0.3 else "array", bad)
            else:
                _dirty_content(doc, kind, rnd)
        yield ("array", doc)
        if update_kind is not None:
            dirt[update_kind] = dirt.get(update_kind, 0) + 1
            new = dict(doc)  # the base version of an updated content is clean
            new["content_id"] = str(k) if update_kind == "newer_version_string_id" else k
            new["ratings"] = {"imdb": round(3.5 + rnd() * 5.5, 1),
                              "votes": doc["ratings"]["votes"] + int(rnd() * 5000)}
            if update_kind.startswith("newer_version"):
                new["updated_at"] = clock.fmt(plan.start_ts + int(rnd() * plan.days * 86400))
            elif update_kind == "stale_version":
                new["updated_at"] = clock.fmt(base_ts - 86400 * (1 + int(rnd() * 60)))
            else:
                new["updated_at"] = ("now", "2026-02-30T00:00:00Z", None, "yesterday")[int(rnd() * 4)]
            yield ("jsonl", new)


# ---------------------------------------------------------------- sessions

def _slot_weights(plan: _Plan, rng: random.Random) -> list[float]:
    """Relative session volume per (day, UTC hour): weekly rhythm, evening peak, growth."""
    weights = []
    for d in range(plan.days):
        day = plan.start + timedelta(days=d)
        weekend = day.weekday() >= 5
        day_w = _WEEKDAY_WEIGHT[day.weekday()] * (1 + 0.004 * d) * (0.93 + 0.14 * rng.random())
        for h in range(24):
            hw = _HOUR_WEIGHT[h] * (1.5 if weekend and 9 <= h <= 17 else 1.0)
            weights.append(day_w * hw)
    return weights


def _device_table() -> list[tuple[float, float, float]]:
    """Per hour, cumulative thresholds for mobile, tv, web (tablet is the rest)."""
    table = []
    for h in range(24):
        if 18 <= h <= 23:
            p = (0.28, 0.45, 0.15)
        elif 6 <= h <= 9:
            p = (0.55, 0.12, 0.22)
        elif 0 <= h <= 5:
            p = (0.5, 0.25, 0.1)
        else:
            p = (0.38, 0.28, 0.22)
        table.append((p[0], p[0] + p[1], p[0] + p[1] + p[2]))
    return table


class _SessionDefects:
    """The slow path of `iter_sessions`: one defect on an otherwise clean session.

    Holds what defects need beyond one row: a ring of recent clean sessions
    (re-sent with a repeated id), resends waiting their turn, and the counters.
    A session is a list: fields 0-6 are the CSV columns, 7 says watch_seconds
    was left empty (silver derives it), 8 is the watch time as a number.
    """

    RING_SIZE = 512

    def __init__(self, plan: _Plan, rng: random.Random, clock: _Clock,
                 dirt: dict[str, int], stats: dict[str, int]):
        self.plan, self.rnd, self.clock = plan, rng.random, clock
        self.dirt, self.stats = dirt, stats
        self.ring: list[list] = []
        self.pending: deque = deque()  # (due row, session) resends of corrected sessions

    def bump(self, counter: dict[str, int], key: str) -> None:
        counter[key] = counter.get(key, 0) + 1

    def remember(self, session: list, slot: int | None = None) -> None:
        """Keep a clean session in the ring (at `slot`, or a random one when full)."""
        if len(self.ring) < self.RING_SIZE:
            self.ring.append(session)
        else:
            self.ring[int(self.rnd() * self.RING_SIZE) if slot is None else slot % self.RING_SIZE] = session

    def due(self, row: int) -> str | None:
        """The line of a corrected session whose resend is due at `row`, if any."""
        if self.pending and self.pending[0][0] <= row:
            session = self.pending.popleft()[1]
            self.bump(self.stats, "superseded")
            self.remember(session)
            return _line(session)
        return None

    def apply(self, kind: str, s: list, ts: int, end_ts: int, row: int) -> str:
        """The line written for session `s` given defect `kind`; counts what silver gets."""
        self.bump(self.dirt, kind)
        if kind in _SESSION_REJECTS:
            self.bump(self.stats, kind)
            return _line(self._rejected(kind, list(s[:7]), ts, end_ts))
        if kind == "duplicate":
            return self._duplicate()
        if kind == "corrected_resend":
            # Sent broken first (so superseded, never rejected), fixed a few rows later.
            bad = list(s[:7])
            bad[3 if self.rnd() < 0.5 else 5] = "now" if self.rnd() < 0.5 else "-1"
            self.pending.append((row + 1 + int(self.rnd() * 6), s))
            _count_survivor(self.stats, s)
            return _line(bad)
        self._valid_noise(kind, s, ts, end_ts)
        _count_survivor(self.stats, s)
        self.remember(s)
        return _line(s)

    def _rejected(self, kind: str, bad: list, ts: int, end_ts: int) -> list:
        rnd, n = self.rnd, self.dirt[kind]
        if kind == "missing_key":
            bad[0] = "" if rnd() < 0.6 else "  "
        elif kind == "invalid_timestamp":
            value = _nth(_BAD_TIMESTAMPS, n).format(d=bad[3][:10])
            bad[4 if bad[4] and rnd() < 0.25 else 3] = value
        elif kind == "invalid_measure":
            if rnd() < 0.2:
                bad[4], bad[5] = "", ""
            else:
                bad[4] = bad[4] or self.clock.fmt(end_ts)
                bad[5] = _nth(_BAD_MEASURES, n)
        elif kind == "negative_duration":
            if rnd() < 0.5:
                bad[5] = -bad[5]
            else:
                bad[4] = self.clock.fmt(ts - 60 - int(rnd() * 3600))
        elif kind == "orphan_user":
            bad[1] = "" if rnd() < 0.2 else f"u{self.plan.users + 1 + int(rnd() * 1000):07d}"
        elif kind == "orphan_content":
            bad[2] = "" if rnd() < 0.2 else str(self.plan.contents + 1 + int(rnd() * 1000))
        return bad

    def _duplicate(self) -> str:
        """An earlier session re-sent with a corrected watch time (same id, later row)."""
        j = int(self.rnd() * len(self.ring))
        old = self.ring[j]
        new = list(old)
        new[5] = new[8] = int(old[8] * (1.05 + 0.3 * self.rnd())) + 1
        if old[7]:
            self.stats["derived_watch_seconds"] -= 1
        new[7] = False
        self.ring[j] = new
        self.bump(self.stats, "superseded")
        return _line(new)

    def _valid_noise(self, kind: str, s: list, ts: int, end_ts: int) -> None:
        rnd, clock = self.rnd, self.clock
        if kind == "whitespace_case_noise":
            s[0], s[1], s[2], s[3] = f" {s[0]}", f"{s[1]} ", f" {s[2]}\t", f" {s[3]} "
            s[6] = _DEVICE_NOISE[int(rnd() * len(_DEVICE_NOISE))]
        elif kind == "offset_timestamp":
            secs = ts % 86400
            if self.dirt[kind] % 2:  # every other one moves the UTC date
                off = (-(secs // 1800 + 1) * 1800 if secs < 43200
                       else ((86400 - secs) // 1800 + 1) * 1800)
            else:
                off = (int(rnd() * 20) - 10) * 1800
            if (ts + off) // 86400 != ts // 86400:
                self.bump(self.stats, "utc_date_shifted")
            sep = " " if rnd() < 0.5 else "T"
            s[3] = clock.local(ts, off, sep)
            if s[4]:
                s[4] = clock.local(end_ts, off, sep, ".5" if rnd() < 0.3 else "")
        elif kind == "derived_watch_seconds":
            s[4], s[5], s[7] = clock.fmt(end_ts, ".500Z"), "", True
        elif kind == "unknown_device":
            dev = _nth(_DEVICE_OTHER, self.dirt[kind])
            s[6] = _csv_quote(dev) if " " in dev else dev


def _line(session: list) -> str:
    return ",".join(map(str, session[:7]))


def _count_survivor(stats: dict[str, int], session: list) -> None:
    """Outcome counters of a session that will survive into silver."""
    if session[7]:
        stats["derived_watch_seconds"] = stats.get("derived_watch_seconds", 0) + 1
    if session[6].strip().strip('"').lower() not in _DEVICES:
        stats["device_other"] = stats.get("device_other", 0) + 1


def iter_sessions(plan: _Plan, durations: array, dirt: dict[str, int],
                  stats: dict[str, int] | None = None) -> Iterator[tuple[str, str]]:
    """Yield (month 'YYYY-MM', csv line) for exactly `plan.sessions` rows, in time order.

    Streaming: one slot (day, UTC hour) at a time; only a small ring of recent
    sessions (for repeated ids) and a few pending resends are kept.
    `dirt` counts defects written; `stats` (optional) counts rejections per
    reason, superseded rows and outcomes of the surviving rows. The clean path
    is written inline with plain string formatting: it runs once per row.
    """
    stats = {} if stats is None else stats
    rng = random.Random(f"{plan.seed}:sessions")
    rnd = rng.random
    n_users, n_contents, total = plan.users, plan.contents, plan.sessions
    cadence = _Cadence(rng, _share(plan.dirty_rate, total, len(SESSION_DIRT)), SESSION_DIRT)
    share, acc = cadence.share, cadence.acc
    u_step, c_step = _coprime_step(n_users), _coprime_step(n_contents)
    u_off, c_off = int(rnd() * n_users), int(rnd() * n_contents)
    k_base = n_contents + 1  # log-uniform rank: P(rank <= r) = ln(r+1)/ln(K+1), Zipf s=1
    devices = _device_table()
    clock = _Clock()
    defects = _SessionDefects(plan, rng, clock, dirt, stats)
    mmss = [f"{r // 60:02d}:{r % 60:02d}" for r in range(3600)]
    prefixes = clock.cache  # hour * 2 -> "YYYY-MM-DDTHH:"
    weights = _slot_weights(plan, rng)
    wsum, acc_w, done, seq, row = sum(weights), 0.0, 0, 0, 0

    for slot, w in enumerate(weights):
        acc_w += w
        upto = total if slot == len(weights) - 1 else int(round(total * acc_w / wsum))
        count, done = upto - done, upto
        slot_ts = plan.start_ts + slot * 3600
        slot_prefix = clock.prefix(slot_ts)
        month = slot_prefix[:7]
        t_mobile, t_tv, t_web = devices[slot % 24]
        for _ in range(count):
            resend = defects.due(row)
            if resend is not None:
                yield month, resend
                row += 1
                continue
            seq += 1
            r = int(rnd() * 3600)
            ts = slot_ts + r
            uid = f"u{(int(n_users * rnd() ** 2) * u_step + u_off) % n_users + 1:07d}"
            rank = int(k_base ** rnd()) - 1
            cnum = ((rank if rank < n_contents else n_contents - 1) * c_step + c_off) % n_contents + 1
            x = rnd()
            device = "mobile" if x < t_mobile else "tv" if x < t_tv else "web" if x < t_web else "tablet"
            dur = durations[cnum] or 45
            if rnd() < (0.55 if dur < 25 else 0.38):
                watch = int(dur * (54.0 + 7.2 * rnd())) + 1  # finished (90-102 %)
            else:
                watch = int(dur * 54.0 * rnd() ** 1.4) + 1  # dropped off early
            start_s = f"{slot_prefix}{mmss[r]}Z"
            end_ts = ts + watch + int(rnd() * 240)
            if rnd() < 0.9:
                end_hour = end_ts // 3600
                end_prefix = prefixes.get(end_hour << 1) or clock.prefix(end_ts)
                end_s = f"{end_prefix}{mmss[end_ts - end_hour * 3600]}Z"
            else:
                end_s = ""  # still watching when exported: watch_seconds says how long
            sid = f"s{seq:09d}"
            acc += share * (0.5 + rnd())  # irregular gaps between defects, same mean
            if acc < 1.0:
                if not seq & 7:  # a sample of recent sessions, for repeated ids
                    defects.remember([sid, uid, str(cnum), start_s, end_s, watch, device, False,
                                      watch], seq >> 3)
                yield month, f"{sid},{uid},{cnum},{start_s},{end_s},{watch},{device}"
                row += 1
                continue
            acc -= 1.0
            kind = cadence.next_kind()
            if (kind == "duplicate" and not defects.ring) or (
                    kind == "corrected_resend" and total - row < 12):
                kind = "whitespace_case_noise"  # no earlier session / no room for the resend
            session = [sid, uid, str(cnum), start_s, end_s, watch, device, False, watch]
            yield month, defects.apply(kind, session, ts, end_ts, row)
            row += 1
    while defects.pending:  # only when a run ends right after a corrected session
        yield clock.fmt(plan.start_ts + plan.days * 86400 - 1)[:7], defects.due(1 << 62)


# ---------------------------------------------------------------- writing

def generate(out: Path, *, users: int, sessions: int, contents: int, days: int, seed: int,
             dirty_rate: float, end_date: date | None = None) -> GenerateReport:
    """Write the raw files into `out` and return what was written and what silver should get.

    Deterministic: the same arguments give byte-identical files. Existing files
    of the same names are overwritten; nothing else in `out` is touched.
    """
    if users < 1 or contents < 1 or sessions < 0 or days < 1:
        raise TerminalError("generate needs --users >= 1, --contents >= 1, --sessions >= 0, "
                            "--days >= 1")
    if not 0.0 <= dirty_rate <= 1.0:
        raise TerminalError(f"--dirty-rate must be between 0 and 1, got {dirty_rate}")
    began = time.perf_counter()
    end = end_date or DEFAULT_END_DATE
    plan = _Plan(users, sessions, contents, days, seed, dirty_rate,
                 end - timedelta(days=days - 1), end)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files: list[FileReport] = []
    dirt: dict[str, dict[str, int]] = {"users": {}, "content": {}, "viewing_sessions": {}}

    files += _write_users(out, plan, dirt["users"])
    durations = array("H", bytes(2 * (contents + 1)))
    files += _write_content(out, plan, dirt["content"], durations)
    stats: dict[str, int] = {}
    files += _write_sessions(out, plan, durations, dirt["viewing_sessions"], stats)
    files.append(_write_readme(out, plan))

    expected = _expectations(plan, files, dirt, stats)
    written = {f.path for f in files}
    others = sorted(rel for rel in (p.relative_to(out).as_posix() for p in out.rglob("*")
                                    if p.is_file() and _is_raw_name(p.name))
                    if rel not in written)
    if others:
        log.warning("%s already holds %d raw file(s) this run did not write (e.g. %s); "
                    "ingestion will load them too", out, len(others), others[0])
    dirt["viewing_sessions"].update({k: stats.get(k, 0) for k in (
        "utc_date_shifted", "derived_watch_seconds", "device_other")})
    report = GenerateReport(out, files, expected, dirt, plan.start, plan.end,
                            time.perf_counter() - began, others)
    log.info("generated %d rows in %d files under %s in %.1f s", report.total_rows,
             len(files), out, report.seconds)
    return report


def _is_raw_name(name: str) -> bool:
    """Whether ingestion recognises a file name (data contract, section 1)."""
    n = name.lower()
    n = n[:-3] if n.endswith(".gz") else n
    return ((n.startswith(("users", "viewing_sessions")) and n.endswith(".csv"))
            or (n.startswith("content") and n.endswith((".json", ".jsonl"))))


def _write_users(out: Path, plan: _Plan, dirt: dict[str, int]) -> list[FileReport]:
    base = _Sink(out, "users.csv", "users")
    legacy = _Sink(out, "users_intl_cp1252.csv", "users", encoding="cp1252")
    upd = _Sink(out, "users_updates.csv", "users", bom=True, crlf=True)
    header = ",".join(USERS_COLUMNS)
    base.text(header)
    legacy.text(header)
    upd.text(",".join(UPDATES_HEADER))
    sinks = {"base": base, "cp1252": legacy, "updates": upd}
    blank_at = max(1, plan.users // 2)
    for target, line in iter_users(plan, dirt):
        sinks[target].row(line)
        if target == "base" and base.report.rows == blank_at:
            base.text("")  # a blank line is not a data row
    return [base.close(), legacy.close(), upd.close()]


def _write_content(out: Path, plan: _Plan, dirt: dict[str, int],
                   durations: array) -> list[FileReport]:
    arr = _Sink(out, "content.json", "content", json_array=True)
    jsonl = _Sink(out, "content_updates.jsonl", "content")
    blank_done = plan.dirty_rate <= 0
    for target, doc in iter_content(plan, dirt, durations):
        line = json.dumps(doc, ensure_ascii=False)
        if target == "array":
            arr.row(line)
        else:
            jsonl.row(line)
            if not blank_done:
                jsonl.text("")  # blank lines in JSONL are skipped
                blank_done = True
    return [arr.close(), jsonl.close()]


def _write_sessions(out: Path, plan: _Plan, durations: array, dirt: dict[str, int],
                    stats: dict[str, int]) -> list[FileReport]:
    reports: list[FileReport] = []
    sink: _Sink | None = None
    month = None
    part = 0
    header = ",".join(SESSIONS_COLUMNS)
    batch: list[str] = []
    in_file = 0
    limit = MAX_SESSION_ROWS_PER_FILE
    if (plan.start.year, plan.start.month) == (plan.end.year, plan.end.month):
        # One month only: still two files, so that there is a plain and a gzipped one.
        limit = min(limit, max(1, (plan.sessions + 1) // 2))
    for m, line in iter_sessions(plan, durations, dirt, stats):
        if m != month or in_file >= limit:
            part = part + 1 if m == month else 1
            if sink is not None:
                sink.rows(batch)
                reports.append(sink.close())
            batch.clear()
            month, in_file = m, 0
            gz = len(reports) % 2 == 1
            rel = f"sessions/viewing_sessions_{m}_{part:03d}.csv" + (".gz" if gz else "")
            sink = _Sink(out, rel, "viewing_sessions", compress=gz)
            sink.text(header)
        batch.append(line)
        in_file += 1
        if len(batch) >= 8192:
            sink.rows(batch)
            batch.clear()
    if sink is not None:
        sink.rows(batch)
    if sink is None:  # no sessions asked for: a header-only file
        sink = _Sink(out, f"sessions/viewing_sessions_{plan.start:%Y-%m}_001.csv",
                     "viewing_sessions")
        sink.text(header)
    reports.append(sink.close())
    return reports


def _write_readme(out: Path, plan: _Plan) -> FileReport:
    path = out / "README.txt"
    path.write_text(
        "Synthetic raw files written by `medallion generate` "
        f"(seed {plan.seed}, {plan.start} to {plan.end}, dirty rate {plan.dirty_rate}).\n"
        "This note is not a data file: ingestion ignores it.\n", encoding="utf-8")
    return FileReport("README.txt", None, 0, bytes=path.stat().st_size)


def _expectations(plan: _Plan, files: list[FileReport], dirt: dict[str, dict[str, int]],
                  stats: dict[str, int]) -> dict[str, EntityExpectation]:
    bronze = {e: sum(f.rows for f in files if f.entity == e)
              for e in ("users", "content", "viewing_sessions")}
    exp: dict[str, EntityExpectation] = {}
    u, c = dirt["users"], dirt["content"]
    u_missing = u.get("missing_key", 0)
    exp["users"] = EntityExpectation(bronze["users"], plan.users,
                                     sum(u.get(k, 0) for k in USER_UPDATE_KINDS),
                                     {"missing_key": u_missing} if u_missing else {})
    c_missing = c.get("missing_key", 0)
    exp["content"] = EntityExpectation(bronze["content"], plan.contents,
                                       sum(c.get(k, 0) for k in CONTENT_UPDATE_KINDS),
                                       {"missing_key": c_missing} if c_missing else {})
    rejected = {r: stats[r] for r in _SESSION_REJECTS if stats.get(r)}
    superseded = stats.get("superseded", 0)
    exp["viewing_sessions"] = EntityExpectation(
        bronze["viewing_sessions"], bronze["viewing_sessions"] - superseded - sum(rejected.values()),
        superseded, rejected)
    return exp


# ---------------------------------------------------------------- CLI

def main(args: argparse.Namespace) -> int:
    """`medallion generate`: write the files and print what was written and what to expect."""
    from etl.settings import get_settings

    out = getattr(args, "out", None) or get_settings().raw_dir()
    options = {name: getattr(args, name, default) for name, default in CLI_DEFAULTS.items()}
    report = generate(Path(out), end_date=getattr(args, "end_date", None), **options)
    width = max(len(f.path) for f in report.files)
    print(f"wrote {len(report.files)} files under {report.out} "
          f"({report.start_date} .. {report.end_date}) in {report.seconds:.1f} s")
    for f in report.files:
        notes = ", ".join(n for n, on in (("gzip", f.gzip), ("BOM", f.bom), ("CRLF", f.crlf),
                                          (f.encoding, f.encoding != "utf-8")) if on)
        print(f"  {f.path.ljust(width)}  {f.entity or 'ignored':<16} {f.rows:>10,} rows"
              + (f"  ({notes})" if notes else ""))
    print("expected in silver:")
    for name, e in report.expected.items():
        rejected = ", ".join(f"{k} {v:,}" for k, v in sorted(e.rejected.items())) or "none"
        print(f"  {name:<16} bronze {e.bronze_rows:,} = silver {e.silver_rows:,} + superseded "
              f"{e.superseded_rows:,} + rejected {e.rejected_rows:,} ({rejected})")
    if report.other_files:
        print(f"warning: {len(report.other_files)} other raw file(s) already in {report.out} "
              f"will be ingested too (e.g. {report.other_files[0]}); the expectations above "
              "cover only the files written now.")
    return 0
