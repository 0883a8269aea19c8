-- Signed changes of gold.fact_viewing for the aggregates that add them up instead of
-- re-reading every fact of a touched group (issue 13): gold.content_performance and
-- gold.daily_viewing. gold.fact_viewing writes, per consumer, each changed fact's old row
-- with sign -1 and its new row with sign +1; the consumer takes its rows in its own
-- transaction.
create table if not exists ops.fact_viewing_delta (
    consumer       text     not null,
    sign           smallint not null,
    session_id     text collate "C" not null,
    user_id        text collate "C" not null,
    content_id     text collate "C" not null,
    session_date   date     not null,
    device         text collate "C" not null,
    watch_seconds  bigint   not null,
    completion_pct double precision,
    is_completed   boolean
);
create index if not exists fact_viewing_delta_consumer_idx on ops.fact_viewing_delta (consumer);

-- Does a viewer still (or already) have facts in a group: point lookups.
create index if not exists fact_viewing_content_user_idx on gold.fact_viewing (content_id, user_id);
create index if not exists fact_viewing_day_user_idx
    on gold.fact_viewing (session_date, device, user_id);

-- Additive state of each group (rows only for groups with sessions); completion_sum is
-- kept with trim_scale so that a sum reached by additions and subtractions reads the same
-- as one summed at once.
create table if not exists gold.content_performance_totals (
    content_id       text collate "C" primary key,
    views            bigint  not null,
    unique_viewers   bigint  not null,
    watch_seconds    bigint  not null,
    completion_sum   numeric not null,
    completion_count bigint  not null,
    completed_count  bigint  not null
);
create table if not exists gold.daily_viewing_totals (
    session_date     date not null,
    device           text collate "C" not null,
    sessions         bigint  not null,
    unique_users     bigint  not null,
    watch_seconds    bigint  not null,
    completion_sum   numeric not null,
    completion_count bigint  not null,
    primary key (session_date, device)
);
