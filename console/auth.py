"""Signing in to the console: the Airflow credentials from the settings, checked on the server.

Streamlit runs every widget callback in the server process, so the password is
compared here (constant time) and never sent back; the browser only learns
whether it worked. Actions that change state need a signed-in user; read-only
pages are open unless CONSOLE_PUBLIC_READ is false, but personal data, task logs
and database coordinates need a sign-in unless CONSOLE_PUBLIC_DETAILS is true.

Failed sign-ins lock the user name for the whole server process (`GUARD`, shared
by every browser session, so a reload or a new session does not reset it): after
5 failures in a row 60 s, doubling with every further failure up to an hour.
Every attempt is recorded in ops.console_signins with the client's address. A
signed-in session ends after CONSOLE_SESSION_IDLE_MINUTES without a page run.
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable

import pandas as pd
import streamlit as st

from etl.settings import Settings, get_settings

log = logging.getLogger(__name__)

_USER_KEY = "console_user"
_SEEN_KEY = "console_user_seen_at"
_EXPIRED_KEY = "console_session_expired"

MAX_FAILURES = 5
LOCKOUT_SECONDS = 60.0
MAX_LOCKOUT_SECONDS = 3600.0
# A user name's failures are forgotten after this long without a new one.
FORGET_SECONDS = 24 * 3600.0
# At most this many user names are tracked (a spray of invented names cannot fill memory).
MAX_TRACKED_NAMES = 10_000
MAX_NAME_CHARS = 200

# Columns of failed-row samples that hold personal data (matched on the last dotted part).
PERSONAL_COLUMNS = frozenset({"email", "full_name", "name", "first_name", "last_name", "phone",
                              "address", "birth_date", "birth_year", "ip_address"})
HIDDEN = "🔒 sign in to see"

# The clock of lockouts and idle sessions (seconds, monotonic); tests replace it.
clock: Callable[[], float] = time.monotonic


def _now() -> float:
    return clock()


# ------------------------------------------------------------------ lockout

@dataclass
class _Failures:
    count: int = 0
    last_at: float = 0.0
    locked_until: float = 0.0


class SignInGuard:
    """Failed sign-ins per user name, for the whole process, with growing back-off.

    After `max_failures` failures in a row a name is locked for `base_seconds`;
    each failure after that (once the lock has run out) locks it for twice as long
    as the one before, up to `max_seconds`. A success forgets the name's failures.
    Attempts while locked are refused without looking at the password and do not
    extend the lock.
    """

    def __init__(self, clock: Callable[[], float] = _now, max_failures: int = MAX_FAILURES,
                 base_seconds: float = LOCKOUT_SECONDS, max_seconds: float = MAX_LOCKOUT_SECONDS,
                 max_names: int = MAX_TRACKED_NAMES) -> None:
        self._clock = clock
        self.max_failures = max_failures
        self.base_seconds = base_seconds
        self.max_seconds = max_seconds
        self.max_names = max_names
        self._lock = threading.Lock()
        self._names: dict[str, _Failures] = {}

    def _entry(self, name: str, now: float) -> _Failures:
        entry = self._names.get(name)
        if entry is not None and entry.locked_until <= now and now - entry.last_at > FORGET_SECONDS:
            entry = None
        if entry is None:
            if len(self._names) >= self.max_names:
                self._evict(now)
            entry = self._names[name] = _Failures()
        return entry

    def _evict(self, now: float) -> None:
        free = sorted((e.last_at, n) for n, e in self._names.items() if e.locked_until <= now)
        for _, name in free[: max(1, len(free) // 2)]:
            del self._names[name]

    def locked_for(self, name: str) -> float:
        """Seconds until `name` may try again (0 when it may now)."""
        with self._lock:
            entry = self._names.get(name)
            return max(0.0, entry.locked_until - self._clock()) if entry else 0.0

    def failures(self, name: str) -> int:
        """Failures in a row of `name` so far."""
        with self._lock:
            entry = self._names.get(name)
            return entry.count if entry else 0

    def failure(self, name: str) -> float:
        """Count a failed attempt; returns the seconds of the lock it starts (0 for none)."""
        with self._lock:
            now = self._clock()
            entry = self._entry(name, now)
            entry.count += 1
            entry.last_at = now
            if entry.count < self.max_failures:
                return 0.0
            seconds = min(self.max_seconds,
                          self.base_seconds * 2 ** (entry.count - self.max_failures))
            entry.locked_until = now + seconds
            return seconds

    def success(self, name: str) -> None:
        """Forget the failures of `name`."""
        with self._lock:
            self._names.pop(name, None)

    def reset(self) -> None:
        """Forget everything (tests)."""
        with self._lock:
            self._names.clear()


GUARD = SignInGuard()


# ------------------------------------------------------------------ credentials and session

def check_credentials(username: str, password: str, settings: Settings | None = None) -> bool:
    """True when both match AIRFLOW_USERNAME / AIRFLOW_PASSWORD (constant-time compare)."""
    settings = settings or get_settings()
    user_ok = hmac.compare_digest(username.encode("utf-8"), settings.airflow_username.encode("utf-8"))
    pass_ok = hmac.compare_digest(password.encode("utf-8"),
                                  settings.airflow_password.get_secret_value().encode("utf-8"))
    return user_ok and pass_ok


def current_user() -> str | None:
    """The signed-in user of this browser session, or None (also once the session idled out).

    Each call counts as activity: the session's idle time starts again.
    """
    user = st.session_state.get(_USER_KEY)
    if user is None:
        return None
    now = _now()
    seen = st.session_state.get(_SEEN_KEY)
    idle_seconds = get_settings().console_session_idle_minutes * 60
    if seen is not None and now - seen > idle_seconds:
        sign_out()
        st.session_state[_EXPIRED_KEY] = True
        log.info("console session of %s ended after %.0f s idle", user, now - seen)
        return None
    st.session_state[_SEEN_KEY] = now
    return user


def can_read() -> bool:
    """Whether this session may see the read-only pages."""
    return get_settings().console_public_read or current_user() is not None


def can_see_details() -> bool:
    """Whether this session may see personal data, task logs and database coordinates."""
    return get_settings().console_public_details or current_user() is not None


def redact_personal(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with personal columns masked, unless this session may see details."""
    if can_see_details():
        return frame
    personal = [c for c in frame.columns if str(c).rsplit(".", 1)[-1].lower() in PERSONAL_COLUMNS]
    return frame.assign(**{c: HIDDEN for c in personal}) if personal else frame


def client_address() -> tuple[str, str | None]:
    """(address of the browser's connection, X-Forwarded-For as sent) of this session.

    Streamlit reports no address for a local connection: that is 'localhost'. The
    forwarded header is kept apart: only a proxy in front can vouch for it.
    """
    address = st.context.ip_address
    forwarded = st.context.headers.get("X-Forwarded-For")
    # without a browser connection (tests, bare mode) Streamlit answers with stand-ins
    address = address if isinstance(address, str) and address else "localhost"
    return address, forwarded if isinstance(forwarded, str) else None


@dataclass(frozen=True)
class SignIn:
    """What a sign-in attempt came to."""

    ok: bool
    message: str
    locked_seconds: float = 0.0


def sign_in(username: str, password: str) -> SignIn:
    """Check the credentials (unless the name is locked), remember the user, record the attempt."""
    name = (username or "")[:MAX_NAME_CHARS]
    remaining = GUARD.locked_for(name)
    if remaining > 0:
        log.warning("console sign-in for %r refused: locked for %.0f s more", name, remaining)
        _record(name, "locked", GUARD.failures(name), remaining)
        return SignIn(False, f"Too many failed sign-ins for this user: try again in "
                             f"{_seconds(remaining)}.", remaining)
    if check_credentials(username or "", password or ""):
        GUARD.success(name)
        st.session_state[_USER_KEY] = username
        st.session_state[_SEEN_KEY] = _now()
        st.session_state.pop(_EXPIRED_KEY, None)
        log.info("console sign-in: %s", name)
        _record(name, "success", 0, 0.0)
        return SignIn(True, f"Signed in as {username}.")
    locked = GUARD.failure(name)
    log.warning("console sign-in refused for user %r", name)
    _record(name, "refused", GUARD.failures(name), locked)
    if locked:
        return SignIn(False, "Sign-in refused: wrong user or password. Too many failures: "
                             f"this user is locked for {_seconds(locked)}.", locked)
    return SignIn(False, "Sign-in refused: wrong user or password.")


def _seconds(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds} s" if seconds < 120 else f"{seconds // 60} min"


def _record(name: str, outcome: str, failures: int, locked_seconds: float) -> None:
    """Write the attempt to ops.console_signins; an outage is logged, never hides the answer."""
    from console.data import records

    address, forwarded = client_address()
    locked_until = (datetime.now(timezone.utc) + timedelta(seconds=locked_seconds)
                    if locked_seconds else None)
    try:
        records.record_sign_in(name, address, forwarded, outcome, failures, locked_until)
    except records.RecordUnavailable as exc:
        log.error("console sign-in attempt (%s, %s from %s) not recorded: %s", name, outcome,
                  address, exc)


def sign_out() -> None:
    """Forget the signed-in user of this session."""
    st.session_state.pop(_USER_KEY, None)
    st.session_state.pop(_SEEN_KEY, None)


# ------------------------------------------------------------------ UI

def sign_in_form(key: str = "sign_in") -> None:
    """The sign-in form (or the signed-in user with a sign-out button)."""
    user = current_user()
    if user:
        st.caption(f"Signed in as **{user}**")
        if st.button("Sign out", key=f"{key}_out"):
            sign_out()
            st.rerun()
        return
    if st.session_state.get(_EXPIRED_KEY):
        minutes = get_settings().console_session_idle_minutes
        st.info(f"⌛ Signed out after {minutes:g} min without activity.")
    with st.form(key, clear_on_submit=True):
        username = st.text_input("User", key=f"{key}_user")
        password = st.text_input("Password", type="password", key=f"{key}_password")
        submitted = st.form_submit_button("Sign in")
    if submitted:
        result = sign_in(username, password)
        if result.ok:
            st.rerun()
        else:
            st.error(result.message)


def sign_in_page() -> None:
    """The only page shown when read access is not public and nobody is signed in."""
    st.title("🔐 Sign in")
    st.write("This console is private (CONSOLE_PUBLIC_READ=false). "
             "Sign in with the Airflow user of this installation.")
    sign_in_form("sign_in_page")


def exposure_problem() -> str | None:
    """Why this console must not serve, when it listens beyond this machine with a default password.

    Only an address given explicitly (`--server.address`, config.toml) is judged;
    `medallion console up` checks CONSOLE_ADDRESS before it starts Streamlit.
    """
    address = st.get_option("server.address")
    if address is None:
        return None
    return get_settings().exposure_problem(address, "This console")
