-- Incremental transforms (issue 13): what each model has processed, what it owes its
-- consumers, and how each model run went.
--
-- ops.processed_ingestions: the bronze ingestions a silver model has folded into silver.
--   A set, not a high-water mark: ingestion ids are handed out before a load commits, so a
--   slow load can commit after a faster one with a greater id.
-- ops.model_state: per model, the checksum of the SQL file it last ran with and whether it
--   owes a full refresh (set when a model it reads was fully rebuilt, or its file changed).
-- ops.model_queue: keys a producer changed, per consumer model and kind of key
--   (user, content, session, date). The consumer deletes what it reads in its own
--   transaction, so a failed consumer finds its queue intact on the next run.
create table if not exists ops.processed_ingestions (
    entity       text        not null,
    ingestion_id bigint      not null,
    run_id       text        not null,
    processed_at timestamptz not null default now(),
    primary key (entity, ingestion_id)
);

create table if not exists ops.model_state (
    model      text primary key,
    checksum   text        not null,
    needs_full boolean     not null default false,
    run_id     text,
    updated_at timestamptz not null default now()
);

create table if not exists ops.model_queue (
    model text not null,   -- the consumer, e.g. gold.fact_viewing
    kind  text not null,   -- user | content | session | date
    key   text collate "C" not null,
    primary key (model, kind, key)
);

-- mode: 'incremental' | 'full'; rows_read: input rows the model processed; rows_changed:
-- rows it inserted or deleted in its tables (a full refresh: the rows it inserted).
alter table ops.model_runs
    add column if not exists mode         text,
    add column if not exists rows_read    bigint,
    add column if not exists rows_changed bigint;

-- The loaded ingestions of an entity a silver model must read: all of them for a full
-- refresh, the ones it has not processed yet otherwise (medallion.mode, set by the runner).
create or replace function ops.pending_ingestions(p_entity text)
returns table (ingestion_id bigint)
language sql stable as
$$
select l.ingestion_id
from ops.ingestion_log as l
where l.entity = p_entity and l.status = 'loaded'
  and (current_setting('medallion.mode', true) is distinct from 'incremental'
       or not exists (select 1 from ops.processed_ingestions as p
                      where p.entity = p_entity and p.ingestion_id = l.ingestion_id))
$$;

-- The key of a content document (data-contract.md, section 3): a trimmed JSON string or a
-- JSON integer, as text; anything else is no key (null).
create or replace function silver.content_key(doc jsonb) returns text
language sql immutable parallel safe as
$$
select case jsonb_typeof(doc -> 'content_id')
    when 'string' then nullif(silver.trim_ascii(doc ->> 'content_id'), '')
    -- A JSON integer only: 10 -> '10'; 10.5 or 10.0 carry a fraction and are no key.
    when 'number' then silver.parse_bigint(doc ->> 'content_id')::text
end
$$;

-- The accounting identity after an incremental or a full silver build. p_staged holds one
-- row per bronze row the model read (outcome, reason, is_new); p_removed the rows it took
-- out of silver and _rejected (outcome, reason) before writing the new outcomes. A full
-- refresh starts from zero; an incremental one from the entity's last recorded identity,
-- minus what the re-read keys contributed before (their silver row, their rejected row and
-- their previously read rows' superseded versions), plus what they contribute now.
create or replace function ops.record_entity_accounting_delta(p_entity text, p_staged regclass,
                                                              p_removed regclass)
returns void
language plpgsql
as $fn$
declare
    incremental boolean := current_setting('medallion.mode', true) = 'incremental';
begin
    execute format($sql$
        with
        previous as (
            select bronze_rows, silver_rows, superseded_rows, rejected_rows, rejected_by_reason
            from ops.entity_accounting
            where entity = %1$L and %3$L::boolean
            order by measured_at desc
            limit 1
        ),
        base as (
            select coalesce(max(bronze_rows), 0) as bronze_rows,
                   coalesce(max(silver_rows), 0) as silver_rows,
                   coalesce(max(superseded_rows), 0) as superseded_rows,
                   coalesce(max(rejected_rows), 0) as rejected_rows
            from previous
        ),
        staged as (
            select count(*) filter (where is_new) as new_rows,
                   count(*) filter (where not is_new) as old_rows,
                   count(*) filter (where outcome = 'silver') as silver_rows,
                   count(*) filter (where outcome = 'superseded') as superseded_rows,
                   count(*) filter (where outcome = 'rejected') as rejected_rows
            from %2$s
        ),
        removed as (
            select count(*) filter (where outcome = 'silver') as silver_rows,
                   count(*) filter (where outcome = 'rejected') as rejected_rows
            from %4$s
        ),
        reasons as (
            select key as reason, value::bigint as n
            from previous, jsonb_each_text(rejected_by_reason)
            union all
            select reason, -count(*) from %4$s where reason is not null group by reason
            union all
            select reason, count(*) from %2$s where reason is not null group by reason
        ),
        by_reason as (
            select coalesce(jsonb_object_agg(reason, n), '{}'::jsonb) as rejected_by_reason
            from (select reason, sum(n) as n from reasons group by reason having sum(n) <> 0) as r
        )
        insert into ops.entity_accounting (
            run_id, entity, bronze_rows, silver_rows, superseded_rows, rejected_rows,
            rejected_by_reason
        )
        select
            current_setting('medallion.run_id'),
            %1$L,
            b.bronze_rows + s.new_rows,
            b.silver_rows - r.silver_rows + s.silver_rows,
            b.superseded_rows - (s.old_rows - r.silver_rows - r.rejected_rows) + s.superseded_rows,
            b.rejected_rows - r.rejected_rows + s.rejected_rows,
            br.rejected_by_reason
        from base as b, staged as s, removed as r, by_reason as br
        on conflict (run_id, entity) do update set
            bronze_rows = excluded.bronze_rows, silver_rows = excluded.silver_rows,
            superseded_rows = excluded.superseded_rows, rejected_rows = excluded.rejected_rows,
            rejected_by_reason = excluded.rejected_by_reason, measured_at = now()
    $sql$, p_entity, p_staged, incremental, p_removed);
end
$fn$;

-- Replace the rows of a keyed table for a set of keys with freshly computed ones, touching
-- only the keys whose rows differ. p_new holds the recomputed rows (same columns, same order
-- as p_target) of every key in p_keys; a key without rows there loses its rows. The changed
-- keys are left in the temporary table p_changed (dropped at commit); returns their number.
create or replace function ops.merge_keyed(p_target regclass, p_new regclass, p_keys regclass,
                                           p_key text, p_changed text)
returns bigint
language plpgsql
as $fn$
declare
    changed bigint;
begin
    execute format($sql$
        create temporary table %5$I on commit drop as
        with old as (select t.* from %1$s as t where t.%4$I in (select k.%4$I from %3$s as k))
        select %4$I from (select * from old except all select * from %2$s) as a
        union
        select %4$I from (select * from %2$s except all select * from old) as b
    $sql$, p_target, p_new, p_keys, p_key, p_changed);
    execute format('analyze %I', p_changed);
    execute format('delete from %1$s as t where t.%2$I in (select c.%2$I from %3$I as c)',
                   p_target, p_key, p_changed);
    execute format('insert into %1$s select n.* from %2$s as n where n.%3$I in (select c.%3$I from %4$I as c)',
                   p_target, p_new, p_key, p_changed);
    execute format('select count(*) from %I', p_changed) into changed;
    return changed;
end
$fn$;
