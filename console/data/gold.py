"""Gold for the console: the KPI tiles, daily viewing, content, genres, countries, segments.

Unfiltered, every number comes straight from its gold table. Filtered by dates, country,
tier or device, the numbers are sums over the additive gold tables built for that
(`gold.daily_segment_viewing` for sessions, watch seconds and completions;
`gold.user_daily_viewing` for exact distinct users), turned into ratios by the gold SQL
functions of migration 0450 (`gold.watch_hours`, `gold.avg_session_minutes`,
`gold.avg_completion_pct`, `gold.completion_rate_pct`, `gold.active_window_start`); per
content and per genre they are the rows of the gold functions of migration 0540
(`gold.filtered_content_performance`, `gold.filtered_genre_performance`), called with the
filter as parameters. So no KPI formula lives here. Country `unknown` stands for users
without a country.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy import text

from console.data.reader import Query, as_array, read_gold

# Filters on gold.daily_segment_viewing and gold.user_daily_viewing (same column names):
# a column filter is off when its array is null, so the planner drops it. Both tables
# hold 'unknown' for users without a country, so 'unknown' filters like any country.
_SEGMENT_FILTER = """
    session_date between :start_date and :end_date
    and (cast(:countries as text[]) is null or country = any(cast(:countries as text[])))
    and (cast(:tiers as text[]) is null or subscription_tier = any(cast(:tiers as text[])))
    and (cast(:devices as text[]) is null or device = any(cast(:devices as text[])))
"""
# The filter on gold.user_engagement (users, with or without sessions).
_USER_FILTER = """
    (cast(:countries as text[]) is null
     or country = any(cast(:countries as text[]))
     or (:include_unknown_country and country is null))
    and (cast(:tiers as text[]) is null or subscription_tier = any(cast(:tiers as text[])))
"""

GOLD_KPI_SUMMARY = Query("gold_kpi_summary", text("""
    select users, active_users_30d, sessions, total_watch_hours, avg_session_minutes,
           avg_completion_pct, completion_rate_pct, as_of
    from gold.kpi_summary
    limit 1
"""))

# Distinct per branch, then `union all`: each branch hashes its few values, instead of one
# `union` sorting every user's tier (100k rows at 5M facts: 486 ms with a disk sort, now 164).
GOLD_FILTER_OPTIONS = Query("gold_filter_options", text("""
    select 'country' as kind, value
      from (select distinct country as value from gold.country_insights) as countries
    union all
    select 'device', value from (select distinct device as value from gold.daily_viewing) as d
    union all
    select 'tier', value
      from (select distinct subscription_tier as value from gold.user_engagement
             where subscription_tier is not null) as tiers
    order by kind, value
"""))

GOLD_DATE_BOUNDS = Query("gold_date_bounds", text("""
    select min(session_date) as first_date, max(session_date) as last_date
    from gold.daily_viewing
"""))

# Tiles under a filter. active_users_30d: distinct users with a selected session that
# started strictly after gold.active_window_start(as_of), as_of being the latest session of
# all gold (= gold.kpi_summary.as_of), whatever the filter; a date filter ending before
# the window therefore gives 0.
GOLD_FILTERED_TILES = Query("gold_filtered_tiles", text(f"""
    with segments as (
        select sessions, watch_seconds, sessions_with_completion, completion_pct_sum,
               completed_sessions
        from gold.daily_segment_viewing
        where {_SEGMENT_FILTER}
    ),
    user_days as (
        select user_id, last_started_at
        from gold.user_daily_viewing
        where {_SEGMENT_FILTER}
    ),
    activity_window as (
        select gold.active_window_start(max(last_started_at)) as starts_after
        from gold.user_daily_viewing
    ),
    sums as (
        select coalesce(sum(sessions), 0)::bigint as sessions,
               sum(watch_seconds) as watch_seconds,
               sum(sessions_with_completion) as sessions_with_completion,
               sum(completion_pct_sum) as completion_pct_sum,
               sum(completed_sessions) as completed_sessions
        from segments
    ),
    users as (
        select count(distinct u.user_id) as unique_users,
               count(distinct u.user_id) filter (where u.last_started_at > w.starts_after)
                   as active_users_30d
        from user_days as u
        cross join activity_window as w
    )
    select s.sessions,
           gold.watch_hours(s.watch_seconds) as total_watch_hours,
           gold.avg_session_minutes(s.watch_seconds, s.sessions) as avg_session_minutes,
           gold.avg_completion_pct(s.completion_pct_sum, s.sessions_with_completion)
               as avg_completion_pct,
           gold.completion_rate_pct(s.completed_sessions, s.sessions_with_completion)
               as completion_rate_pct,
           u.unique_users,
           u.active_users_30d
    from sums as s
    cross join users as u
"""))

GOLD_USER_COUNT = Query("gold_user_count", text(f"""
    select count(*) as users from gold.user_engagement where {_USER_FILTER}
"""))

GOLD_DAILY_VIEWING = Query("gold_daily_viewing", text("""
    select session_date, device, sessions, unique_users, total_watch_hours,
           avg_completion_pct
    from gold.daily_viewing
    where session_date between :start_date and :end_date
      and (cast(:devices as text[]) is null or device = any(cast(:devices as text[])))
    order by session_date, device
"""))

GOLD_FILTERED_DAILY_VIEWING = Query("gold_filtered_daily_viewing", text(f"""
    with segments as (
        select session_date, device, sum(sessions)::bigint as sessions,
               sum(watch_seconds) as watch_seconds,
               sum(sessions_with_completion) as sessions_with_completion,
               sum(completion_pct_sum) as completion_pct_sum
        from gold.daily_segment_viewing
        where {_SEGMENT_FILTER}
        group by session_date, device
    ),
    users as (
        select session_date, device, count(distinct user_id) as unique_users
        from gold.user_daily_viewing
        where {_SEGMENT_FILTER}
        group by session_date, device
    )
    select s.session_date, s.device, s.sessions, u.unique_users,
           gold.watch_hours(s.watch_seconds) as total_watch_hours,
           gold.avg_completion_pct(s.completion_pct_sum, s.sessions_with_completion)
               as avg_completion_pct
    from segments as s
    join users as u using (session_date, device)
    order by s.session_date, s.device
"""))

GOLD_TOP_CONTENT_BY_VIEWS = Query("gold_top_content_by_views", text("""
    select content_id, title, content_type, views, unique_viewers, total_watch_hours,
           avg_completion_pct, completion_rate_pct
    from gold.content_performance
    order by views desc, content_id
    limit :limit
"""))

GOLD_TOP_CONTENT_BY_HOURS = Query("gold_top_content_by_hours", text("""
    select content_id, title, content_type, views, unique_viewers, total_watch_hours,
           avg_completion_pct, completion_rate_pct
    from gold.content_performance
    order by total_watch_hours desc, content_id
    limit :limit
"""))

# Per content under a filter: gold.content_performance's rows for the selected facts, from the
# gold function that defines them (migration 0540).
_FILTERED_CONTENT = """
    select content_id, title, content_type, views, unique_viewers, total_watch_hours,
           avg_completion_pct, completion_rate_pct
    from gold.filtered_content_performance(:start_date, :end_date, cast(:countries as text[]),
                                           cast(:tiers as text[]), cast(:devices as text[]))
"""

GOLD_FILTERED_TOP_CONTENT_BY_VIEWS = Query("gold_filtered_top_content_by_views", text(f"""
    {_FILTERED_CONTENT}
    order by views desc, content_id
    limit :limit
"""))

GOLD_FILTERED_TOP_CONTENT_BY_HOURS = Query("gold_filtered_top_content_by_hours", text(f"""
    {_FILTERED_CONTENT}
    order by total_watch_hours desc, content_id
    limit :limit
"""))

GOLD_GENRES = Query("gold_genres", text("""
    select genre, titles, views, unique_viewers, total_watch_hours, avg_completion_pct
    from gold.genre_performance
    order by total_watch_hours desc, genre
"""))

# Per genre under a filter: gold.genre_performance's rows for the selected facts (a session
# counts for every genre of its content), from the gold function of migration 0540.
GOLD_FILTERED_GENRES = Query("gold_filtered_genres", text("""
    select genre, titles, views, unique_viewers, total_watch_hours, avg_completion_pct
    from gold.filtered_genre_performance(:start_date, :end_date, cast(:countries as text[]),
                                         cast(:tiers as text[]), cast(:devices as text[]))
    order by total_watch_hours desc, genre
"""))

GOLD_COUNTRIES = Query("gold_countries", text("""
    select country, users, active_users, sessions, total_watch_hours, avg_session_minutes
    from gold.country_insights
    order by total_watch_hours desc, country
"""))

GOLD_FILTERED_COUNTRIES = Query("gold_filtered_countries", text(f"""
    with segments as (
        select country, sum(sessions)::bigint as sessions, sum(watch_seconds) as watch_seconds
        from gold.daily_segment_viewing
        where {_SEGMENT_FILTER}
        group by country
    ),
    users as (
        select country, count(distinct user_id) as active_users
        from gold.user_daily_viewing
        where {_SEGMENT_FILTER}
        group by country
    ),
    final as (
        select s.country, u.active_users, s.sessions,
               gold.watch_hours(s.watch_seconds) as total_watch_hours,
               gold.avg_session_minutes(s.watch_seconds, s.sessions) as avg_session_minutes
        from segments as s
        join users as u using (country)
    )
    select * from final
    order by total_watch_hours desc, country
"""))

GOLD_SEGMENTS = Query("gold_segments", text(f"""
    select segment, count(*) as users, coalesce(sum(sessions), 0) as sessions,
           coalesce(sum(total_watch_hours), 0) as total_watch_hours,
           avg(avg_session_minutes) as avg_session_minutes
    from gold.user_engagement
    where {_USER_FILTER}
    group by segment
    order by case segment when 'heavy' then 1 when 'regular' then 2
                          when 'light' then 3 else 4 end
"""))


@dataclass(frozen=True)
class KpiFilter:
    """The gold page's filters; empty tuples mean 'all'."""

    start_date: date
    end_date: date
    countries: tuple[str, ...] = ()
    tiers: tuple[str, ...] = ()
    devices: tuple[str, ...] = ()
    first_date: date | None = None  # the full range, to know whether dates filter at all
    last_date: date | None = None

    @property
    def narrows_dates(self) -> bool:
        return (self.first_date is not None and self.start_date > self.first_date) or \
            (self.last_date is not None and self.end_date < self.last_date)

    @property
    def narrows_users(self) -> bool:
        return bool(self.countries or self.tiers)

    @property
    def is_empty(self) -> bool:
        return not (self.narrows_dates or self.narrows_users or self.devices)

    def segment_params(self) -> dict:
        """Bind parameters of the filter on the aggregate tables and of the gold functions
        ('unknown' is a country)."""
        return {"start_date": self.start_date, "end_date": self.end_date,
                "countries": as_array(self.countries), "tiers": as_array(self.tiers),
                "devices": as_array(self.devices)}

    def user_params(self) -> dict:
        """Bind parameters of the country and tier filter on gold.user_engagement."""
        return {"countries": as_array(self.countries),
                "include_unknown_country": "unknown" in self.countries,
                "tiers": as_array(self.tiers)}


def kpi_summary() -> dict:
    """The one row of gold.kpi_summary as a dict (empty when gold was never built)."""
    frame = read_gold(GOLD_KPI_SUMMARY)
    return {} if frame.empty else frame.iloc[0].to_dict()


def filter_options() -> dict[str, list[str]]:
    """Choices for the gold filters: countries, tiers and devices present in gold."""
    frame = read_gold(GOLD_FILTER_OPTIONS)
    return {kind: sorted(frame.loc[frame["kind"] == kind, "value"].dropna().tolist())
            for kind in ("country", "tier", "device")}


def date_bounds() -> tuple[date | None, date | None]:
    """First and last session date in gold.daily_viewing."""
    row = read_gold(GOLD_DATE_BOUNDS).iloc[0]
    first, last = row["first_date"], row["last_date"]
    return (None if pd.isna(first) else first, None if pd.isna(last) else last)


def kpi_tiles(flt: KpiFilter | None = None) -> dict:
    """The KPI tiles; straight from gold.kpi_summary when nothing is filtered.

    Under a filter: sums of gold.daily_segment_viewing and distinct users of
    gold.user_daily_viewing (see GOLD_FILTERED_TILES); `users` counts the users of
    gold.user_engagement in the selected countries and tiers, with or without sessions.
    """
    summary = kpi_summary()
    if flt is None or flt.is_empty:
        return summary
    tiles = read_gold(GOLD_FILTERED_TILES, **flt.segment_params()).iloc[0].to_dict()
    tiles["users"] = int(read_gold(GOLD_USER_COUNT, **flt.user_params()).iloc[0]["users"])
    tiles["as_of"] = summary.get("as_of")
    return tiles


def daily_viewing(flt: KpiFilter) -> pd.DataFrame:
    """Sessions and watch hours per day and device: gold.daily_viewing unless users are
    filtered, then the aggregate tables."""
    if flt.narrows_users:
        return read_gold(GOLD_FILTERED_DAILY_VIEWING, **flt.segment_params())
    return read_gold(GOLD_DAILY_VIEWING, start_date=flt.start_date, end_date=flt.end_date,
                     devices=as_array(flt.devices))


def top_content(flt: KpiFilter, by: str = "views", limit: int = 10) -> pd.DataFrame:
    """Top content by `views` or `watch_hours`."""
    if by not in ("views", "watch_hours"):
        raise ValueError("by must be 'views' or 'watch_hours'")
    if flt.is_empty:
        query = GOLD_TOP_CONTENT_BY_VIEWS if by == "views" else GOLD_TOP_CONTENT_BY_HOURS
        return read_gold(query, limit=limit)
    query = (GOLD_FILTERED_TOP_CONTENT_BY_VIEWS if by == "views"
             else GOLD_FILTERED_TOP_CONTENT_BY_HOURS)
    return read_gold(query, limit=limit, **flt.segment_params())


def genre_performance(flt: KpiFilter) -> pd.DataFrame:
    """Per genre; a session counts for every genre of its content, filtered or not."""
    if flt.is_empty:
        return read_gold(GOLD_GENRES)
    return read_gold(GOLD_FILTERED_GENRES, **flt.segment_params())


def country_insights(flt: KpiFilter) -> pd.DataFrame:
    """Per user country ('unknown' for users without one)."""
    if flt.is_empty:
        return read_gold(GOLD_COUNTRIES)
    return read_gold(GOLD_FILTERED_COUNTRIES, **flt.segment_params())


def user_segments(flt: KpiFilter) -> pd.DataFrame:
    """Users per engagement segment (country and tier filters apply)."""
    return read_gold(GOLD_SEGMENTS, **flt.user_params())
