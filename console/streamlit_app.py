"""The operations console's entry point: a router over the pages in console/app_pages/.

Run from the repository root (Streamlit reads .streamlit/config.toml from the
working directory): `medallion console up`, or
`streamlit run console/streamlit_app.py`.
"""

from __future__ import annotations

import streamlit as st

from console import auth, ui
from etl.logging import configure

configure()
st.set_page_config(page_title="Medallion console", page_icon="🥇", layout="wide")
ui.start_run()

exposed = auth.exposure_problem()
if exposed:
    st.error(f"🔐 **This console refuses to serve.** {exposed}.")
    st.stop()

PAGES = [
    st.Page("app_pages/overview.py", title="Overview", icon="🏠", default=True),
    st.Page("app_pages/pipelines.py", title="Pipelines", icon="🛠️", url_path="pipelines"),
    st.Page("app_pages/data_quality.py", title="Data quality", icon="🧪", url_path="data-quality"),
    st.Page("app_pages/volumes.py", title="Volumes & latency", icon="📦",
            url_path="volumes"),
    st.Page("app_pages/gold_kpis.py", title="Gold KPIs", icon="🏆", url_path="gold-kpis"),
    st.Page("app_pages/changes.py", title="What changed", icon="🔀", url_path="changes"),
    st.Page("app_pages/lineage.py", title="Lineage", icon="🧬", url_path="lineage"),
    st.Page("app_pages/redo.py", title="Redo work", icon="🔁", url_path="redo"),
]

if auth.can_read():
    page = st.navigation({"Medallion console": PAGES})
    ui.sidebar()
else:
    page = st.navigation([st.Page(auth.sign_in_page, title="Sign in", icon="🔐",
                                  url_path="sign-in")])
page.run()
