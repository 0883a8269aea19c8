-- silver.content, silver.content_genres, silver.content_cast (data-contract.md, section 3).
-- content_id is a JSON string (trimmed) or a JSON integer, as text; anything else, or an
-- empty one, is rejected as missing_key. The latest version of a key is the one with the
-- greatest valid updated_at (invalid or missing counting as the oldest), then the later row.
-- builds: silver.content, silver.content_genres, silver.content_cast, silver.content_rejected
create temporary table content_staged on commit drop as
with

bronze_content as (
    select * from bronze.content
),

keyed as (
    select
        case jsonb_typeof(doc -> 'content_id')
            when 'string' then nullif(silver.trim_ascii(doc ->> 'content_id'), '')
            -- A JSON integer only: 10 -> '10'; 10.5 or 10.0 carry a fraction and are no key.
            when 'number' then silver.parse_bigint(doc ->> 'content_id')::text
        end as content_id,
        doc,
        ingestion_id,
        source_file,
        source_row
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

truncate silver.content, silver.content_genres, silver.content_cast, silver.content_rejected;

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

select ops.record_entity_accounting('content', 'content_staged');
