"""No secret in the repository: every git-tracked file is scanned.

What counts as a secret: private keys, cloud and SaaS tokens (AWS, GitHub, Slack,
Google, Stripe), JWTs, Slack webhook URLs with a real token, credentials inside a
database or broker URL, and `password=` / `secret: ...` style assignments of a literal
value. Placeholders are fine: empty values, `change-me`, `<your-token>`, `${VAR}`,
`example`, and the like; tests may use throwaway values only where the allow-list
below says why.

The scanner is tested on temp files first, so a scanner that finds nothing fails.
Secret-shaped strings in this file are built by concatenation, so that it does not
flag itself.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAX_BYTES = 2_000_000  # larger tracked files are data, not config; none is expected

# (kind, pattern) — each pattern matches the secret itself.
PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("private key", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")),
    ("AWS access key id", re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b")),
    ("AWS secret access key", re.compile(
        r"(?i)aws_?secret_?(?:access_?)?key\s*[=:]\s*['\"]?[A-Za-z0-9/+=]{40}\b")),
    ("GitHub token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{50,})")),
    ("Slack token", re.compile(r"\bxox[abposr]-[0-9A-Za-z-]{10,}")),
    ("Slack webhook URL", re.compile(
        r"https://hooks\.slack\.com/(?:services|workflows|triggers)/T[A-Z0-9]{6,}/[A-Z0-9]{6,}/[A-Za-z0-9]{16,}")),
    ("Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    ("Stripe key", re.compile(r"\b[sr]k_live_[0-9A-Za-z]{20,}")),
    ("JWT", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}")),
]

# user:password@ inside a URL of a database, broker or HTTP service.
URL_CREDENTIALS = re.compile(
    r"\b(?:postgres(?:ql)?(?:\+\w+)?|mongodb(?:\+srv)?|mysql(?:\+\w+)?|redis|rediss|amqps?|https?|"
    r"s?ftp|smtp)://(?P<user>[^:/@\s'\"]+):(?P<password>[^@/\s'\"]+)@")

# `password = "<value>"`, `SMTP_PASSWORD=<value>`, `secret_key: <value>`, `"token": "<value>"`.
ASSIGNMENT = re.compile(
    r"""(?ix)
    (?<![\w.${-])
    (?P<key>[A-Za-z0-9_.-]*(?:password|passwd|passphrase|secret|token|api[_-]?key|
        access[_-]?key|private[_-]?key|fernet[_-]?key|credentials?)[A-Za-z0-9_]*)
    ['"]?[ \t]*(?::|=|:=)[ \t]*
    (?P<quote>['"]?)(?P<value>\$\{[^}\n]*\}|[^'"\s,;)\#]*)(?P=quote)
    """)
# Keys that name where a secret lives or how it is shaped, not the secret itself.
NOT_A_SECRET_KEY = re.compile(r"(?i)(?:_file|_path|_dir|_url|_uri|_env|_var|_name|_length|_ttl|"
                              r"_timeout|_seconds|_minutes|_expiration|_field|_type|_user|_username|"
                              r"secret_?name)$")  # a Kubernetes Secret's name is a reference

# Values that are documented placeholders, not secrets.
PLACEHOLDER = re.compile(
    r"""(?ix)^(?:
        |change[-_]?me|changeme|replace[-_]?me|your[-_a-z]*|example[-_a-z]*|placeholder|
        x+|\*+|\.\.\.|<[^>]*>|\$\{[^}]*\}|\$[A-Z_]+|\{\{[^}]*\}\}|%\([a-z_]+\)s|\{[a-z_]*\}|
        none|null|true|false|
        secret(?:str)?|password|token|dummy|fake|test|unused|redacted|admin|
        \w+\(.*|[A-Za-z_][\w.]*[\[(].*|[A-Za-z_][\w.]*\.(?:get|value|get_secret_value)\b.*|
        /.*|\./.*
    )$""")

# Keys whose "value" is code or configuration, not a credential (a type, a flag, a path).
NOT_A_VALUE = re.compile(r"(?i)^(?:SecretStr|str|bool|int|None|Optional\[.*|type|"
                         r"[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)+)$")


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    kind: str
    excerpt: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.kind}: {self.excerpt}"


# Throwaway values that look like credentials on purpose, each with the reason.
ALLOWED: dict[tuple[str, str], str] = {
    # (path, the matched value) -> why it is not a secret
    ("tests/unit/test_airflow_local.py", "pg-secret"):
        "a Settings object built in memory to check that the value is passed on, never a login",
    ("tests/unit/test_airflow_local.py", "s3cret"):
        "the same in-memory Settings: the Airflow password handed to the components under test",
    ("tests/unit/test_quality_scan.py", "pa${ss}word"):
        "an in-memory Settings value that proves a `$` in a password is not templated by Soda",
    ("deploy/helm/values.yaml", "smtp-password"):
        "the Helm chart's secretKey: the name of a key inside a Kubernetes Secret, not its value",
    ("deploy/helm/values.yaml", "slack-webhook-url"):
        "the Helm chart's secretKey: the name of a key inside a Kubernetes Secret, not its value",
}


def _excerpt(text: str, start: int, end: int) -> str:
    """The finding with the secret itself masked, so a report never repeats it."""
    secret = text[start:end]
    shown = secret[:6] + "…" if len(secret) > 8 else "…"
    return shown


def _is_placeholder(value: str) -> bool:
    value = value.strip()
    return bool(PLACEHOLDER.match(value)) or bool(NOT_A_VALUE.match(value))


def scan_text(path: str, text: str) -> list[Finding]:
    """Every secret-looking string in one file's text."""
    found: list[Finding] = []

    def add(kind: str, start: int, end: int, value: str) -> None:
        if (path, value) in ALLOWED:
            return
        line = text.count("\n", 0, start) + 1
        found.append(Finding(path, line, kind, _excerpt(text, start, end)))

    for kind, pattern in PATTERNS:
        for m in pattern.finditer(text):
            add(kind, m.start(), m.end(), m.group(0))
    for m in URL_CREDENTIALS.finditer(text):
        if not _is_placeholder(m.group("password")) and m.group("password") not in ("pw", "pass"):
            add("credentials in a URL", m.start("password"), m.end("password"), m.group("password"))
    for m in ASSIGNMENT.finditer(text):
        value = m.group("value")
        if not value or _is_placeholder(value) or NOT_A_SECRET_KEY.search(m.group("key")):
            continue
        if not m.group("quote") and not _bare_value_is_literal(path, text, m):
            continue
        if len(value) < 6:
            continue  # too short to be a credential anyone relies on
        add(f"{m.group('key')} set to a literal", m.start("value"), m.end("value"), value)
    return found


def _bare_value_is_literal(path: str, text: str, m: re.Match[str]) -> bool:
    """An unquoted value is a literal in env/ini/yaml-like files, code elsewhere."""
    suffix = Path(path).suffix.lower()
    name = Path(path).name.lower()
    if name.startswith(".env") or suffix in (".env", ".ini", ".cfg", ".conf", ".toml", ".yml",
                                             ".yaml", ".properties", ".sh", ".txt", ".md", ""):
        return True
    return False


def scan_file(root: Path, rel: str) -> list[Finding]:
    path = root / rel
    try:
        data = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        return []  # deleted in the working tree, or a submodule
    if len(data) > MAX_BYTES or b"\x00" in data[:8192]:
        return []  # binary (screenshots) or data
    return scan_text(rel, data.decode("utf-8", errors="replace"))


def tracked_files(root: Path) -> list[str]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True).stdout
    return [p for p in out.decode("utf-8", errors="surrogateescape").split("\0") if p]


# ------------------------------------------------------------------ the repository

def test_no_tracked_file_holds_a_secret():
    files = tracked_files(ROOT)
    assert len(files) > 50, "git ls-files found almost nothing: not scanning the repository"
    findings = [f for rel in files for f in scan_file(ROOT, rel)]
    assert findings == [], "secrets in tracked files:\n" + "\n".join(map(str, findings))


def test_env_example_holds_only_placeholders():
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    secret_keys = [line.split("=", 1) for line in text.splitlines()
                   if re.match(r"^[A-Z_]*(?:PASSWORD|SECRET|TOKEN|KEY|WEBHOOK_URL|URI)[A-Z_]*=", line)]
    assert secret_keys, ".env.example names no secret at all: the check below would prove nothing"
    for key, value in secret_keys:
        assert value == "" or _is_placeholder(value), f"{key} in .env.example is not a placeholder"


def test_gitignore_keeps_local_secrets_out():
    ignored = subprocess.run(
        ["git", "check-ignore", "--no-index", ".env", ".medallion/services.env"],
        cwd=ROOT, capture_output=True, text=True).stdout.split()
    assert ignored == [".env", ".medallion/services.env"]


# ------------------------------------------------------------------ the scanner can fail

def _fake(*parts: str) -> str:
    return "".join(parts)


SECRETS = {
    "private key": _fake("-----BEGIN ", "RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----\n"),
    "openssh key": _fake("-----BEGIN OPENSSH ", "PRIVATE KEY-----\nb3Blbn\n"),
    "aws id": _fake("key_id = AK", "IA", "Q3EGRIHZ4DX7KTUV\n"),
    "aws secret": _fake("aws_secret_", "access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYzQ8wJtUaZ1\n"),
    "github": _fake("GH = 'gh", "p_", "a" * 20, "B" * 16, "'\n"),
    "slack token": _fake("x", "oxb-", "123456789012-abcdefghijkl\n"),
    "slack webhook": _fake("SLACK_WEBHOOK_URL=https://hooks.", "slack.com/services/",
                           "T0A1B2C3D/B0A1B2C3D/", "q8Wm3Zr7Lk2Xp9Vt5Ys1Nb4H\n"),
    "jwt": _fake("Authorization: Bearer ey", "JhbGciOiJIUzI1NiJ9.ey",
                 "JzdWIiOiJhZG1pbiJ9.", "dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk\n"),
    "google": _fake("key: AI", "za", "SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q\n"),
    "db url": _fake("POSTGRES_URL=postgresql://app:", "Tr0ub4dor&3", "@db.internal:5432/prod\n"),
    "mongo url": _fake('uri = "mongodb+srv://svc:', "n8x2Lq0wPz", '@cluster0.example.net/"\n'),
    "python password": _fake('connect(host="db", pass', 'word="Sup3r-S3cret!")\n'),
    "env password": _fake("SMTP_PASS", "WORD=hunter2hunter2\n"),
    "yaml secret": _fake("fernet_", "key: 3q2-7wEAAAAfernetlooking0123456789abcd=\n"),
    "json token": _fake('{"api_token": "c0ffee15', 'c0ffee15c0ffee15"}\n'),
}

PLACEHOLDERS = {
    ".env.example": "POSTGRES_PASSWORD=\nAIRFLOW_PASSWORD=change-me\nSLACK_WEBHOOK_URL=\nMONGO_URI=\n",
    "settings.py": 'postgres_password: SecretStr = SecretStr("")\n'
                   "password = settings.postgres_password.get_secret_value()\n",
    "compose.yml": "POSTGRES_PASSWORD: ${POSTGRES_PASSWORD}\nAIRFLOW__API_AUTH__JWT_SECRET: ${AIRFLOW_JWT_SECRET}\n",
    "README.md": "MONGO_URI=mongodb://<user>:<password>@host:27017\n"
                 "SLACK_WEBHOOK_URL=https://hooks.slack.com/services/XXX/YYY/ZZZ\n"
                 "password=<your-password>\n",
    "docs.md": "mongodb://user:pw@host:27017/?authSource=admin\n",
    "code.py": 'kwargs["password"] = self.postgres_password_value\n'
               "token = airflow_local.api_token(self.settings)\n",
}


@pytest.mark.parametrize("kind", sorted(SECRETS))
def test_the_scanner_finds_each_kind_of_secret_in_a_temp_file(tmp_path, kind):
    name = "config.env" if kind.startswith(("env", "slack webhook", "db url")) else "leak.py"
    if kind == "yaml secret":
        name = "airflow.yml"
    (tmp_path / name).write_text(SECRETS[kind], encoding="utf-8")
    findings = scan_file(tmp_path, name)
    assert findings, f"{kind} not found in {SECRETS[kind]!r}"
    assert all(f.path == name and f.line >= 1 for f in findings)
    # The report masks what it found.
    secret_tail = SECRETS[kind].strip()[-12:]
    assert all(secret_tail not in str(f) for f in findings)


@pytest.mark.parametrize("name", sorted(PLACEHOLDERS))
def test_the_scanner_leaves_placeholders_alone(tmp_path, name):
    (tmp_path / name).write_text(PLACEHOLDERS[name], encoding="utf-8")
    assert scan_file(tmp_path, name) == []


def test_a_committed_secret_fails_the_repository_scan(tmp_path):
    """The whole path: a git repository, a tracked file with a secret, the scan fails."""
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "app.env").write_text(SECRETS["env password"], encoding="utf-8")
    (tmp_path / "clean.py").write_text("x = 1\n", encoding="utf-8")
    (tmp_path / "untracked.py").write_text(SECRETS["python password"], encoding="utf-8")
    subprocess.run(["git", "add", "app.env", "clean.py"], cwd=tmp_path, check=True)
    findings = [f for rel in tracked_files(tmp_path) for f in scan_file(tmp_path, rel)]
    assert [(f.path, f.line) for f in findings] == [("app.env", 1)]
