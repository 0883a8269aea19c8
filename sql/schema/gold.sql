-- gold: analytics derived from silver only, small and ready for the console.
-- The tables are filled by the models in sql/gold/. Keys and grouping columns compare
-- in byte order (COLLATE "C"), for the reason given in silver.sql.
create schema gold;

create table gold.fact_viewing (
    session_id        text collate "C" primary key,
    user_id           text collate "C" not null,
    content_id        text collate "C" not null,
    started_at        timestamptz not null,
    session_date      date not null,
    device            text collate "C" not null,
    watch_seconds     bigint not null,
    completion_pct    double precision,
    is_completed      boolean,
    country           text collate "C",
    subscription_tier text collate "C",
    content_title     text,
    content_type      text,
    primary_genre     text collate "C"
);
create index fact_viewing_session_date_idx on gold.fact_viewing (session_date);
create index fact_viewing_content_idx on gold.fact_viewing (content_id);
create index fact_viewing_country_idx on gold.fact_viewing (country);
create index fact_viewing_device_idx on gold.fact_viewing (device);

create table gold.content_performance (
    content_id          text collate "C" primary key,
    title               text,
    content_type        text,
    views               bigint not null,
    unique_viewers      bigint not null,
    total_watch_hours   double precision not null,
    avg_completion_pct  double precision,
    completion_rate_pct double precision
);

create table gold.user_engagement (
    user_id             text collate "C" primary key,
    country             text,
    subscription_tier   text,
    sessions            bigint not null,
    total_watch_hours   double precision not null,
    active_days         bigint not null,
    first_session_at    timestamptz,
    last_session_at     timestamptz,
    avg_session_minutes double precision,
    segment             text not null
);
create index user_engagement_segment_idx on gold.user_engagement (segment);

create table gold.genre_performance (
    genre              text collate "C" primary key,
    titles             bigint not null,
    views              bigint not null,
    unique_viewers     bigint not null,
    total_watch_hours  double precision not null,
    avg_completion_pct double precision
);

create table gold.country_insights (
    country             text collate "C" primary key,
    users               bigint not null,
    active_users        bigint not null,
    sessions            bigint not null,
    total_watch_hours   double precision not null,
    avg_session_minutes double precision
);

create table gold.daily_viewing (
    session_date       date not null,
    device             text collate "C" not null,
    sessions           bigint not null,
    unique_users       bigint not null,
    total_watch_hours  double precision not null,
    avg_completion_pct double precision,
    primary key (session_date, device)
);

create table gold.kpi_summary (
    users               bigint not null,
    active_users_30d    bigint not null,
    sessions            bigint not null,
    total_watch_hours   double precision not null,
    avg_session_minutes double precision,
    avg_completion_pct  double precision,
    completion_rate_pct double precision,
    as_of               timestamptz
);
