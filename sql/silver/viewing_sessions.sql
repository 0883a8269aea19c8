-- silver.viewing_sessions (data-contract.md, section 3): the later row of a session_id wins
-- (source_file in byte order, then ingestion, then row); the survivor is then rejected
-- with the first reason that applies, in the contract's order.
--
-- Incremental (etl/sql_runner.py, `-- mode:` sections): the keys re-read are those of the
-- ingestions not yet processed, the orphans waiting for a user or content that silver.users
-- or silver.content queued, and the silver sessions of a queued content (completion_pct).
-- Each is re-read from ALL its bronze versions (index on the trimmed key), and its silver or
-- rejected row replaced; a full refresh reads every key, through the same steps below.
-- Keys whose silver row changed are queued for gold.fact_viewing.
-- depends_on: silver.users, silver.content
-- builds: silver.viewing_sessions, silver.viewing_sessions_rejected
-- mode: all
create temporary table viewing_sessions_ingestions on commit drop as
select ingestion_id from ops.pending_ingestions('viewing_sessions');

-- mode: full
delete from ops.model_queue where model = 'silver.viewing_sessions';

create temporary view viewing_sessions_scope as
select b.*, true as is_new
from bronze.viewing_sessions as b
where b.ingestion_id in (select ingestion_id from viewing_sessions_ingestions);

-- mode: incremental
create temporary table viewing_sessions_queue on commit drop as
with taken as (
    delete from ops.model_queue where model = 'silver.viewing_sessions' returning kind, key
)
select kind, key from taken;

-- One pass over bronze for the rows of the new ingestions (the BRIN index on ingestion_id
-- does not narrow it down once its ranges are unsummarised), with their trimmed key.
create temporary table viewing_sessions_new_rows on commit drop as
select b.*, silver.trim_ascii(b.session_id) as new_key
from bronze.viewing_sessions as b
where b.ingestion_id in (select ingestion_id from viewing_sessions_ingestions);

create temporary table viewing_sessions_keys on commit drop as
select new_key as session_id from viewing_sessions_new_rows where new_key <> ''
union
select r.session_id
from silver.viewing_sessions_rejected as r
where r.reason = 'orphan_user'
  and silver.trim_ascii(r.raw_record ->> 'user_id') in (
      select key from viewing_sessions_queue where kind = 'user')
union
select r.session_id
from silver.viewing_sessions_rejected as r
where r.reason = 'orphan_content'
  and silver.trim_ascii(r.raw_record ->> 'content_id') in (
      select key from viewing_sessions_queue where kind = 'content')
union
select s.session_id
from silver.viewing_sessions as s
where s.content_id in (select key from viewing_sessions_queue where kind = 'content');

analyze viewing_sessions_keys;

-- Materialised (read twice below, and small): the bronze versions of those keys.
create temporary table viewing_sessions_scope on commit drop as
select b.*, b.ingestion_id in (select ingestion_id from viewing_sessions_ingestions) as is_new
from bronze.viewing_sessions as b
where silver.trim_ascii(b.session_id) in (select session_id from viewing_sessions_keys)
  -- versions of ingestions processed before or now: one that commits while this runs is
  -- left whole for the next run
  and (b.ingestion_id in (select ingestion_id from viewing_sessions_ingestions)
       or b.ingestion_id in (select p.ingestion_id from ops.processed_ingestions as p
                             where p.entity = 'viewing_sessions'))
union all
select session_id, user_id, content_id, started_at, ended_at, watch_seconds,
       device, extra, ingestion_id, source_file, source_row, ingestion_timestamp, true as is_new
from viewing_sessions_new_rows
where coalesce(new_key, '') = '';

analyze viewing_sessions_scope;

-- mode: all
-- counts: read
-- Step 1, parse every value once. A plain scan of bronze, so PostgreSQL can spread the
-- parsing (most of this model's work) over parallel workers; the parsers read the raw
-- column and trim it first.
create temporary table viewing_sessions_parsed on commit drop as
with

bronze_sessions as (
    select * from viewing_sessions_scope
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
        source_row,
        is_new
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
        duration_min,
        is_new
    from validated
)

select * from final;

-- mode: full
truncate silver.viewing_sessions, silver.viewing_sessions_rejected;

create temporary table viewing_sessions_removed (outcome text, reason text) on commit drop;

-- mode: incremental
create temporary table viewing_sessions_old on commit drop as
select * from silver.viewing_sessions
where session_id in (select session_id from viewing_sessions_keys);

create temporary table viewing_sessions_removed (outcome text, reason text) on commit drop;

insert into viewing_sessions_removed (outcome, reason)
select 'silver', null from viewing_sessions_old;

delete from silver.viewing_sessions
where session_id in (select session_id from viewing_sessions_keys);

with gone as (
    delete from silver.viewing_sessions_rejected
    where session_id in (select session_id from viewing_sessions_keys)
    returning reason
)
insert into viewing_sessions_removed (outcome, reason)
select 'rejected', reason from gone;

-- mode: all

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
join viewing_sessions_scope as b using (ingestion_id, source_row)
where s.outcome = 'rejected';

select ops.record_entity_accounting_delta('viewing_sessions', 'viewing_sessions_staged',
                                          'viewing_sessions_removed');

insert into ops.processed_ingestions (entity, ingestion_id, run_id)
select 'viewing_sessions', ingestion_id, current_setting('medallion.run_id')
from viewing_sessions_ingestions
on conflict do nothing;

-- mode: incremental
-- The keys whose silver row changed (appeared, left, or differs), for gold.fact_viewing.
insert into ops.model_queue (model, kind, key)
select 'gold.fact_viewing', 'session', session_id from (
    select * from viewing_sessions_old
    except all
    select * from silver.viewing_sessions
    where session_id in (select session_id from viewing_sessions_keys)
) as gone
union
select 'gold.fact_viewing', 'session', session_id from (
    select * from silver.viewing_sessions
    where session_id in (select session_id from viewing_sessions_keys)
    except all
    select * from viewing_sessions_old
) as came
on conflict do nothing;
