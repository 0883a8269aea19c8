"""Signing in to the console: the Airflow credentials from the settings, checked on the server.

Streamlit runs every widget callback in the server process, so the password is
compared here (constant time) and never sent back; the browser only learns
whether it worked. Actions that change state need a signed-in user; read-only
pages are open unless CONSOLE_PUBLIC_READ is false.
"""

from __future__ import annotations

import hmac
import logging
import time

import streamlit as st

from etl.settings import Settings, get_settings

log = logging.getLogger(__name__)

_USER_KEY = "console_user"
_FAILURES_KEY = "console_sign_in_failures"
MAX_FAILURES = 5
LOCKOUT_SECONDS = 60


def check_credentials(username: str, password: str, settings: Settings | None = None) -> bool:
    """True when both match AIRFLOW_USERNAME / AIRFLOW_PASSWORD (constant-time compare)."""
    settings = settings or get_settings()
    user_ok = hmac.compare_digest(username.encode("utf-8"), settings.airflow_username.encode("utf-8"))
    pass_ok = hmac.compare_digest(password.encode("utf-8"),
                                  settings.airflow_password.get_secret_value().encode("utf-8"))
    return user_ok and pass_ok


def current_user() -> str | None:
    """The signed-in user of this browser session, or None."""
    return st.session_state.get(_USER_KEY)


def can_read() -> bool:
    """Whether this session may see the read-only pages."""
    return get_settings().console_public_read or current_user() is not None


def sign_in(username: str, password: str) -> bool:
    """Check the credentials and remember the user in this session; False when refused."""
    failures = st.session_state.get(_FAILURES_KEY, [])
    recent = [t for t in failures if time.monotonic() - t < LOCKOUT_SECONDS]
    if len(recent) >= MAX_FAILURES:
        log.warning("console sign-in locked after %d failures", len(recent))
        return False
    if check_credentials(username, password):
        st.session_state[_USER_KEY] = username
        st.session_state[_FAILURES_KEY] = []
        log.info("console sign-in: %s", username)
        return True
    st.session_state[_FAILURES_KEY] = recent + [time.monotonic()]
    log.warning("console sign-in refused for user %r", username)
    return False


def sign_out() -> None:
    """Forget the signed-in user of this session."""
    st.session_state.pop(_USER_KEY, None)


def sign_in_form(key: str = "sign_in") -> None:
    """The sign-in form (or the signed-in user with a sign-out button)."""
    user = current_user()
    if user:
        st.caption(f"Signed in as **{user}**")
        if st.button("Sign out", key=f"{key}_out"):
            sign_out()
            st.rerun()
        return
    with st.form(key, clear_on_submit=True):
        username = st.text_input("User", key=f"{key}_user")
        password = st.text_input("Password", type="password", key=f"{key}_password")
        submitted = st.form_submit_button("Sign in")
    if submitted:
        if sign_in(username, password):
            st.rerun()
        else:
            st.error("Sign-in refused: wrong user or password (or too many attempts; "
                     f"wait {LOCKOUT_SECONDS} s).")


def sign_in_page() -> None:
    """The only page shown when read access is not public and nobody is signed in."""
    st.title("🔐 Sign in")
    st.write("This console is private (CONSOLE_PUBLIC_READ=false). "
             "Sign in with the Airflow user of this installation.")
    sign_in_form("sign_in_page")
