"""Gold KPIs: tiles, daily viewing by device, top content, genres, countries, segments."""

import streamlit as st

from console import charts, ui
from console.data import gold

st.title("🏆 Gold KPIs")

bounds = ui.load(gold.date_bounds)
options = ui.load(gold.filter_options)
if bounds is None or options is None:
    st.stop()
first, last = bounds
if first is None:
    ui.empty("Gold is empty: run the pipeline (`medallion run`, or trigger dag_2 on the "
             "Pipelines page) to fill it.")
    st.stop()

with st.container(border=True):
    c1, c2, c3, c4 = st.columns([2, 2, 2, 2])
    picked = c1.date_input("Dates", value=(first, last), min_value=first, max_value=last,
                           key="kpi_dates")
    countries = c2.multiselect("Country", options["country"], key="kpi_country",
                               placeholder="All countries")
    tiers = c3.multiselect("Tier", options["tier"], key="kpi_tier", placeholder="All tiers")
    devices = c4.multiselect("Device", options["device"], key="kpi_device",
                             placeholder="All devices")
start, end = (picked if isinstance(picked, (tuple, list)) and len(picked) == 2
              else (first, last))
flt = gold.KpiFilter(start_date=start, end_date=end, countries=tuple(countries),
                     tiers=tuple(tiers), devices=tuple(devices), first_date=first, last_date=last)

tiles = ui.load(gold.kpi_tiles, flt)
if tiles:
    cols = st.columns(6)
    ui.metric("Users", tiles.get("users"), container=cols[0])
    ui.metric("Active (30 d)", tiles.get("active_users_30d"), container=cols[1],
              help="Users with a session in the 720 hours before the latest session.")
    ui.metric("Sessions", tiles.get("sessions"), container=cols[2])
    ui.metric("Watch hours", tiles.get("total_watch_hours"), container=cols[3])
    ui.metric("Avg completion", tiles.get("avg_completion_pct"), digits=1, suffix=" %",
              container=cols[4])
    ui.metric("Completion rate", tiles.get("completion_rate_pct"), digits=1, suffix=" %",
              container=cols[5], help="Share of sessions watched to 90 % or more.")
    st.caption(f"Data up to {ui.fmt_time(tiles.get('as_of'))}"
               + ("" if flt.is_empty else " · filtered"))

ui.chart_or_empty(ui.load(gold.daily_viewing, flt), charts.daily_viewing, key="daily",
                  empty_message="No session matches these filters.")

# Below the daily chart, one tab at a time: only the open tab's queries run and only its
# charts reach the browser (a first render draws two charts, not six).
tab_top, tab_genres, tab_countries = st.tabs(
    ["Top content", "Genres & segments", "Countries"], key="kpi_tab", on_change="rerun")

if tab_top.open:
    with tab_top:
        left, right = st.columns(2)
        with left:
            top_views = ui.load(gold.top_content, flt, "views")
            if top_views is not None and not top_views.empty:
                ui.chart(charts.top_content(top_views, "views", "Top content by views"),
                         key="top_views")
        with right:
            top_hours = ui.load(gold.top_content, flt, "watch_hours")
            if top_hours is not None and not top_hours.empty:
                ui.chart(charts.top_content(top_hours, "total_watch_hours",
                                            "Top content by watch hours"), key="top_hours")

if tab_genres.open:
    with tab_genres:
        left, right = st.columns(2)
        with left:
            genres = ui.load(gold.genre_performance, flt)
            if genres is not None and not genres.empty:
                ui.chart(charts.genres(genres), key="genres")
                if not flt.is_empty:
                    st.caption("Filtered: each session counts for its content's primary genre.")
        with right:
            segments = ui.load(gold.user_segments, flt)
            if segments is not None and not segments.empty:
                ui.chart(charts.segments(segments), key="segments")
                st.caption("Segments follow the country and tier filters.")

if tab_countries.open:
    with tab_countries:
        countries_frame = ui.load(gold.country_insights, flt)
        if countries_frame is not None and not countries_frame.empty:
            left, right = st.columns([3, 2])
            with left:
                ui.chart(charts.countries(countries_frame), key="countries")
            with right:
                ui.table(countries_frame, column_config={
                    "total_watch_hours": st.column_config.NumberColumn("watch hours",
                                                                       format="%.1f"),
                    "avg_session_minutes": st.column_config.NumberColumn("avg minutes",
                                                                         format="%.1f")})
