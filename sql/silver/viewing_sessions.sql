-- silver.viewing_sessions (data-contract.md, section 3): the later row of a session_id wins
-- (source_file in byte order, then ingestion, then row); the survivor is then rejected
-- with the first reason that applies, in the contract's order.
-- depends_on: silver.users, silver.content
-- builds: silver.viewing_sessions, silver.viewing_sessions_rejected
-- Step 1, parse every value once. A plain scan of bronze, so PostgreSQL can spread the
-- parsing (most of this model's work) over parallel workers; the parsers read the raw
-- column and trim it first.
create temporary table viewing_sessions_parsed on commit drop as
with

bronze_sessions as (
    select * from bronze.viewing_sessions
),

final as (
    select
        silver.trim_ascii(session_id)    as session_id,
        silver.trim_ascii(user_id)       as user_id,
        silver.trim_ascii(content_id)    as content_id,
        silver.trim_ascii(ended_at)      as ended_at,
        silver.trim_ascii(watch_seconds) as watch_seconds,
        silver.trim_ascii(device)        as device,
        silver.trimmed_timestamp(started_at)    as started_at_ts,
        silver.trimmed_timestamp(ended_at)      as ended_at_ts,
        silver.trimmed_bigint(watch_seconds)    as watch_seconds_int,
        ingestion_id,
        source_file,
        source_row
    from bronze_sessions
)

select * from final;

-- Step 2, version and validate: the later row of a key wins, then the first reason applies.
create temporary table viewing_sessions_staged on commit drop as
with

parsed as (
    select * from viewing_sessions_parsed
),

users as (
    select user_id from silver.users
),

contents as (
    select content_id, duration_min from silver.content
),

ranked as (
    select
        *,
        row_number() over (
            partition by session_id collate "C"  -- equality only: byte comparison is enough
            order by source_file collate "C" desc, ingestion_id desc, source_row desc
        ) as version_rank
    from parsed
),

validated as (
    select
        r.*,
        case
            when coalesce(r.session_id, '') = '' then 'missing_key'
            when r.version_rank > 1 then null
            when r.started_at_ts is null
              or (coalesce(r.ended_at, '') <> '' and r.ended_at_ts is null)
                then 'invalid_timestamp'
            when (coalesce(r.watch_seconds, '') <> '' and r.watch_seconds_int is null)
              or (coalesce(r.watch_seconds, '') = '' and coalesce(r.ended_at, '') = '')
                then 'invalid_measure'
            when r.watch_seconds_int < 0 or r.ended_at_ts < r.started_at_ts
                then 'negative_duration'
            when u.user_id is null
                then 'orphan_user'
            when c.content_id is null
                then 'orphan_content'
        end as reason,
        c.duration_min
    from ranked as r
    left join users as u on u.user_id = r.user_id
    left join contents as c on c.content_id = r.content_id
),

final as (
    select
        case
            when reason is not null then 'rejected'
            when version_rank > 1 then 'superseded'
            else 'silver'
        end as outcome,
        reason,
        session_id, ingestion_id, source_file, source_row,
        user_id, content_id,
        started_at_ts as started_at,
        ended_at_ts as ended_at,
        -- An empty watch_seconds with a valid ended_at: whole seconds between, rounded down.
        coalesce(watch_seconds_int,
                 floor(extract(epoch from ended_at_ts) - extract(epoch from started_at_ts))::bigint)
            as watch_seconds,
        device,
        duration_min
    from validated
)

select * from final;

truncate silver.viewing_sessions, silver.viewing_sessions_rejected;

insert into silver.viewing_sessions (
    session_id, user_id, content_id, started_at, ended_at, watch_seconds, device, completion_pct,
    ingestion_id, source_file, source_row
)
select
    session_id,
    user_id,
    content_id,
    started_at,
    ended_at,
    watch_seconds,
    case when silver.ascii_lower(device) in ('mobile', 'tv', 'web', 'tablet')
         then silver.ascii_lower(device) else 'other' end,
    -- least() ignores nulls: an unknown duration must stay null, not become 100. In numeric,
    -- because any double > 0 is a valid duration and double arithmetic could overflow.
    case when duration_min is not null
         then least(100, watch_seconds * 100.0 / (duration_min::numeric * 60))::double precision
    end,
    ingestion_id, source_file, source_row
from viewing_sessions_staged
where outcome = 'silver';

insert into silver.viewing_sessions_rejected (
    session_id, reason, ingestion_id, source_file, source_row, raw_record
)
select
    nullif(s.session_id, ''),
    s.reason,
    b.ingestion_id, b.source_file, b.source_row,
    jsonb_build_object(
        'session_id', b.session_id, 'user_id', b.user_id, 'content_id', b.content_id,
        'started_at', b.started_at, 'ended_at', b.ended_at, 'watch_seconds', b.watch_seconds,
        'device', b.device)
    || case when b.extra is not null then jsonb_build_object('extra', b.extra) else '{}' end
from viewing_sessions_staged as s
join bronze.viewing_sessions as b using (ingestion_id, source_row)
where s.outcome = 'rejected';

select ops.record_entity_accounting('viewing_sessions', 'viewing_sessions_staged');
