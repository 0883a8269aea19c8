-- silver.content, silver.content_genres, silver.content_cast (data-contract.md, section 3).
-- content_id is a JSON string (trimmed) or a JSON integer, as text (silver.content_key);
-- anything else, or an empty one, is rejected as missing_key. The latest version of a key is
-- the one with the greatest valid updated_at (invalid or missing counting as the oldest),
-- then the later row.
--
-- Incremental (etl/sql_runner.py, `-- mode:` sections): the keys of the ingestions not yet
-- processed are re-read from ALL their bronze versions (index on silver.content_key) and
-- replaced with their genres and cast; a full refresh reads every key, through the same
-- staging and inserts. Contents never leave silver; content_rejected only grows. Keys whose
-- content or genres changed are queued for the models that read them.
-- builds: silver.content, silver.content_genres, silver.content_cast, silver.content_rejected
-- mode: all
create temporary table content_ingestions on commit drop as
select ingestion_id from ops.pending_ingestions('content');

-- mode: full
create temporary view content_scope as
select b.*, true as is_new
from bronze.content as b
where b.ingestion_id in (select ingestion_id from content_ingestions);

-- mode: incremental
-- One pass over bronze for the rows of the new ingestions (the BRIN index on ingestion_id
-- does not narrow it down once its ranges are unsummarised), with their trimmed key.
create temporary table content_new_rows on commit drop as
select b.*, silver.content_key(b.doc) as new_key
from bronze.content as b
where b.ingestion_id in (select ingestion_id from content_ingestions);

create temporary table content_keys on commit drop as
select distinct new_key as content_id from content_new_rows where new_key is not null;

analyze content_keys;

-- Materialised (read twice below, and small): the bronze versions of those keys.
create temporary table content_scope on commit drop as
select b.*, b.ingestion_id in (select ingestion_id from content_ingestions) as is_new
from bronze.content as b
where silver.content_key(b.doc) in (select content_id from content_keys)
  -- versions of ingestions processed before or now: one that commits while this runs is
  -- left whole for the next run
  and (b.ingestion_id in (select ingestion_id from content_ingestions)
       or b.ingestion_id in (select p.ingestion_id from ops.processed_ingestions as p
                             where p.entity = 'content'))
union all
select doc, ingestion_id, source_file, source_row, ingestion_timestamp, true as is_new
from content_new_rows
where new_key is null;

analyze content_scope;

-- mode: all
-- counts: read
create temporary table content_staged on commit drop as
with

bronze_content as (
    select * from content_scope
),

keyed as (
    select
        silver.content_key(doc) as content_id,
        doc,
        ingestion_id,
        source_file,
        source_row,
        is_new
    from bronze_content
),

versioned as (
    select
        *,
        silver.parse_timestamp(silver.json_text(doc -> 'updated_at')) as updated_at_ts
    from keyed
),

ranked as (
    select
        *,
        row_number() over (
            partition by content_id collate "C"  -- equality only: byte comparison is enough
            order by updated_at_ts desc nulls last,
                     source_file collate "C" desc, ingestion_id desc, source_row desc
        ) as version_rank
    from versioned
),

final as (
    select
        case
            when content_id is null then 'rejected'
            when version_rank = 1 then 'silver'
            else 'superseded'
        end as outcome,
        case when content_id is null then 'missing_key' end as reason,
        *
    from ranked
)

select * from final;

-- mode: full
truncate silver.content, silver.content_genres, silver.content_cast, silver.content_rejected;

create temporary table content_removed (outcome text, reason text) on commit drop;

-- mode: incremental
create temporary table content_old on commit drop as
select * from silver.content where content_id in (select content_id from content_keys);

create temporary table content_genres_old on commit drop as
select * from silver.content_genres where content_id in (select content_id from content_keys);

delete from silver.content where content_id in (select content_id from content_keys);

delete from silver.content_genres where content_id in (select content_id from content_keys);

delete from silver.content_cast where content_id in (select content_id from content_keys);

create temporary table content_removed on commit drop as
select 'silver'::text as outcome, null::text as reason from content_old;

-- mode: all

insert into silver.content (
    content_id, title, content_type, duration_min, release_year, imdb_rating, votes,
    maturity_rating, updated_at, ingestion_id, source_file, source_row
)
with

current_content as (
    select * from content_staged where outcome = 'silver'
),

-- Materialized: each parsed value is used twice below (test, then value), and a flattened
-- query would parse it twice.
parsed as materialized (
    select
        content_id,
        silver.json_text(doc -> 'title') as title,
        silver.ascii_lower(silver.json_text(doc -> 'content_type')) as content_type,
        silver.parse_number(silver.json_scalar(doc -> 'duration_min')) as duration_min,
        silver.parse_bigint(silver.json_scalar(doc -> 'release' -> 'year')) as release_year,
        silver.parse_number(silver.json_scalar(doc -> 'ratings' -> 'imdb')) as imdb_rating,
        silver.parse_bigint(silver.json_scalar(doc -> 'ratings' -> 'votes')) as votes,
        silver.json_text(doc -> 'maturity_rating') as maturity_rating,
        updated_at_ts as updated_at,
        ingestion_id,
        source_file,
        source_row
    from current_content
),

final as (
    select
        content_id,
        title,
        case when content_type in ('movie', 'series', 'documentary', 'short')
             then content_type else 'unknown' end as content_type,
        case when duration_min > 0 then duration_min end as duration_min,
        case when release_year between 1870 and extract(year from now() at time zone 'UTC') + 1
             then release_year end as release_year,
        case when imdb_rating between 0 and 10 then imdb_rating end as imdb_rating,
        case when votes >= 0 then votes end as votes,
        maturity_rating,
        updated_at,
        ingestion_id,
        source_file,
        source_row
    from parsed
)

select * from final;

insert into silver.content_genres (content_id, genre, ordinal)
with

current_content as (
    select content_id, doc -> 'genres' as genres from content_staged where outcome = 'silver'
),

elements as (
    select c.content_id, e.value, e.position
    from current_content as c
    cross join lateral jsonb_array_elements(case jsonb_typeof(c.genres)
        when 'array' then c.genres
        when 'string' then jsonb_build_array(c.genres)
        else '[]'::jsonb
    end) with ordinality as e (value, position)
),

cleaned as (
    select content_id, silver.ascii_lower(silver.json_text(value)) as genre, position
    from elements
),

first_occurrences as (
    select content_id, genre, min(position) as position
    from cleaned
    where genre is not null
    group by content_id, genre
),

final as (
    select
        content_id,
        genre,
        row_number() over (partition by content_id order by position)::integer as ordinal
    from first_occurrences
)

select * from final;

insert into silver.content_cast (content_id, ordinal, name, role)
with

current_content as (
    select content_id, doc -> 'cast' as cast_members from content_staged where outcome = 'silver'
),

elements as (
    select c.content_id, e.value, e.position
    from current_content as c
    cross join lateral jsonb_array_elements(case jsonb_typeof(c.cast_members)
        when 'array' then c.cast_members else '[]'::jsonb end) with ordinality as e (value, position)
    where jsonb_typeof(e.value) = 'object'
),

final as (
    select
        content_id,
        row_number() over (partition by content_id order by position)::integer as ordinal,
        silver.json_text(value -> 'name') as name,
        silver.json_text(value -> 'role') as role
    from elements
)

select * from final;

insert into silver.content_rejected (content_id, reason, ingestion_id, source_file, source_row, raw_record)
select
    case when jsonb_typeof(doc -> 'content_id') in ('string', 'number')
         then nullif(silver.trim_ascii(doc ->> 'content_id'), '') end,
    reason,
    ingestion_id, source_file, source_row,
    doc
from content_staged
where outcome = 'rejected';

select ops.record_entity_accounting_delta('content', 'content_staged', 'content_removed');

insert into ops.processed_ingestions (entity, ingestion_id, run_id)
select 'content', ingestion_id, current_setting('medallion.run_id') from content_ingestions
on conflict do nothing;

-- mode: incremental
-- The keys whose content row or genres changed (cast feeds nothing downstream): sessions
-- may resurrect or change completion, facts change title, type or primary genre.
create temporary table content_changed on commit drop as
with
new_content as (
    select * from silver.content where content_id in (select content_id from content_keys)
),
new_genres as (
    select * from silver.content_genres where content_id in (select content_id from content_keys)
)
select content_id from (select * from content_old except all select * from new_content) as a
union
select content_id from (select * from new_content except all select * from content_old) as b
union
select content_id from (select * from content_genres_old except all select * from new_genres) as c
union
select content_id from (select * from new_genres except all select * from content_genres_old) as d;

insert into ops.model_queue (model, kind, key)
select consumer, 'content', content_id
from content_changed
cross join (values ('silver.viewing_sessions'), ('gold.fact_viewing'),
                   ('gold.content_performance'), ('gold.genre_performance')) as c (consumer)
on conflict do nothing;
