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

-- Parallel workers parse bronze; the leader joins, builds and writes the rows they send it,
-- and is busy enough with that (measured: step 1 24.5 s with its participation, 16.7 s without).
set local parallel_leader_participation = off;

-- Statistics of what was ingested since the last analyze, so that the step below is planned
-- for a million rows and not a few thousand (and parallel workers join them too).
analyze bronze.viewing_sessions;

-- An array, not `in (select ...)`: a temporary table is read by the leader only, and as an
-- init plan its ids go to parallel workers, which a semi join of it would rule out.
create temporary view viewing_sessions_scope as
select b.*, true as is_new
from bronze.viewing_sessions as b
where b.ingestion_id = any (array(select ingestion_id from viewing_sessions_ingestions));

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
-- Step 1, one pass over the scope: parse every value once, apply the row's own checks and
-- look its user and content up, and keep the raw record of a row that fails one (so the
-- rejected table needs no second pass over bronze). A plain scan of bronze in a full
-- refresh, so PostgreSQL can spread it (most of this model's work) over parallel workers.
create temporary table viewing_sessions_parsed on commit drop as
with

bronze_sessions as (
    select * from viewing_sessions_scope
),

-- Not flattened into the queries below (offset 0): each parsed value is read several times
-- there, and a flattened query would parse it again for each. The lookups of user and
-- content are made here too, beside the scope's filter: so the parallel workers make them.
parsed as (
    select
        b.session_id    as raw_session_id,
        b.user_id       as raw_user_id,
        b.content_id    as raw_content_id,
        b.started_at    as raw_started_at,
        b.ended_at      as raw_ended_at,
        b.watch_seconds as raw_watch_seconds,
        b.device        as raw_device,
        b.extra,
        silver.trim_ascii(b.session_id)    as session_id,
        silver.trim_ascii(b.user_id)       as user_id,
        silver.trim_ascii(b.content_id)    as content_id,
        silver.trim_ascii(b.ended_at)      as ended_at,
        silver.trim_ascii(b.watch_seconds) as watch_seconds,
        silver.trim_ascii(b.device)        as device,
        silver.trimmed_timestamp(b.started_at)    as started_at_ts,
        silver.trimmed_timestamp(b.ended_at)      as ended_at_ts,
        silver.trimmed_bigint(b.watch_seconds)    as watch_seconds_int,
        u.user_id is not null as user_known,
        c.content_id is not null as content_known,
        c.duration_min,
        b.ingestion_id,
        b.source_file,
        b.source_row,
        b.is_new
    from bronze_sessions as b
    left join silver.users as u on u.user_id = silver.trim_ascii(b.user_id)
    left join silver.content as c on c.content_id = silver.trim_ascii(b.content_id)
    offset 0
),

-- The first reason that applies, in the contract's order, but for versioning (step 2): a
-- later version of the key supersedes this row whatever its reason, unless it has no key.
validated as (
    select
        *,
        case
            when coalesce(session_id, '') = '' then 'missing_key'
            when started_at_ts is null
              or (coalesce(ended_at, '') <> '' and ended_at_ts is null)
                then 'invalid_timestamp'
            when (coalesce(watch_seconds, '') <> '' and watch_seconds_int is null)
              or (coalesce(watch_seconds, '') = '' and coalesce(ended_at, '') = '')
                then 'invalid_measure'
            when watch_seconds_int < 0 or ended_at_ts < started_at_ts
                then 'negative_duration'
            when not user_known
                then 'orphan_user'
            when not content_known
                then 'orphan_content'
        end as reason
    from parsed
),

-- Every column of the silver row (for a row without a reason) or of the rejected one.
final as (
    select
        session_id,
        ingestion_id,
        source_file,
        source_row,
        is_new,
        reason,
        user_id,
        content_id,
        started_at_ts as started_at,
        ended_at_ts as ended_at,
        -- An empty watch_seconds with a valid ended_at: whole seconds between, rounded down.
        coalesce(watch_seconds_int,
                 floor(extract(epoch from ended_at_ts) - extract(epoch from started_at_ts))::bigint)
            as watch_seconds,
        case when silver.ascii_lower(device) in ('mobile', 'tv', 'web', 'tablet')
             then silver.ascii_lower(device) else 'other' end as device,
        -- least() ignores nulls: an unknown duration must stay null, not become 100. In
        -- numeric, because any double > 0 is a valid duration and double arithmetic could
        -- overflow.
        case when reason is null and duration_min is not null
             then least(100, coalesce(watch_seconds_int,
                                      floor(extract(epoch from ended_at_ts)
                                            - extract(epoch from started_at_ts))::bigint)
                             * 100.0 / (duration_min::numeric * 60))::double precision
        end as completion_pct,
        case when reason is not null then
            jsonb_build_object(
                'session_id', raw_session_id, 'user_id', raw_user_id,
                'content_id', raw_content_id, 'started_at', raw_started_at,
                'ended_at', raw_ended_at, 'watch_seconds', raw_watch_seconds,
                'device', raw_device)
            || case when extra is not null then jsonb_build_object('extra', extra) else '{}' end
        end as raw_record,
        false as superseded
    from validated
)

select * from final;

analyze viewing_sessions_parsed;

-- Step 2, version: the later row of a key wins (source_file in byte order, then ingestion,
-- then row). Most keys have one row, so only the keys with several are sorted.
update viewing_sessions_parsed as p
set superseded = true
from (
    select
        ingestion_id,
        source_row,
        row_number() over (
            partition by session_id collate "C"  -- equality only: byte comparison is enough
            order by source_file collate "C" desc, ingestion_id desc, source_row desc
        ) as version_rank
    from viewing_sessions_parsed
    where session_id in (select session_id
                         from viewing_sessions_parsed
                         where session_id <> ''
                         group by session_id
                         having count(*) > 1)
) as ranked
where ranked.version_rank > 1
  and p.ingestion_id = ranked.ingestion_id and p.source_row = ranked.source_row;

-- Each row's outcome: superseded by a later version of its key, rejected with its reason,
-- or silver (a view: each statement below reads the parsed rows once).
create temporary view viewing_sessions_staged as
select
    case
        when superseded then 'superseded'
        when reason is not null then 'rejected'
        else 'silver'
    end as outcome,
    case when not superseded then reason end as reason,
    session_id, ingestion_id, source_file, source_row, is_new,
    user_id, content_id, started_at, ended_at, watch_seconds, device, completion_pct, raw_record
from viewing_sessions_parsed;

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
    session_id, user_id, content_id, started_at, ended_at, watch_seconds, device, completion_pct,
    ingestion_id, source_file, source_row
from viewing_sessions_staged
where outcome = 'silver';

insert into silver.viewing_sessions_rejected (
    session_id, reason, ingestion_id, source_file, source_row, raw_record
)
select nullif(session_id, ''), reason, ingestion_id, source_file, source_row, raw_record
from viewing_sessions_staged
where outcome = 'rejected';

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
