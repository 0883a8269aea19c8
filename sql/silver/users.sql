-- silver.users: one current row per user_id (data-contract.md, section 3).
-- The latest version of a key is the one with the greatest valid updated_at (an invalid or
-- empty one counts as the oldest), ties going to the later row (source_file in byte order,
-- then ingestion, then row). A row with an empty user_id is rejected as missing_key.
--
-- Incremental (etl/sql_runner.py, `-- mode:` sections): the keys of the ingestions not yet
-- processed are re-read from ALL their bronze versions (index on the trimmed key) and
-- replaced; a full refresh reads every key. Both go through the same staging and insert
-- below. Users never leave silver (only an empty key is rejected, and it has no key), so
-- users_rejected only grows. Changed keys are queued for the models that read users.
-- builds: silver.users, silver.users_rejected
-- mode: all
create temporary table users_ingestions on commit drop as
select ingestion_id from ops.pending_ingestions('users');

-- mode: full
create temporary view users_scope as
select b.*, true as is_new
from bronze.users as b
where b.ingestion_id in (select ingestion_id from users_ingestions);

-- mode: incremental
-- One pass over bronze for the rows of the new ingestions (the BRIN index on ingestion_id
-- does not narrow it down once its ranges are unsummarised), with their trimmed key.
create temporary table users_new_rows on commit drop as
select b.*, silver.trim_ascii(b.user_id) as new_key
from bronze.users as b
where b.ingestion_id in (select ingestion_id from users_ingestions);

create temporary table users_keys on commit drop as
select distinct new_key as user_id from users_new_rows where new_key <> '';

analyze users_keys;

-- Materialised (read twice below, and small): the bronze versions of those keys.
create temporary table users_scope on commit drop as
select b.*, b.ingestion_id in (select ingestion_id from users_ingestions) as is_new
from bronze.users as b
where silver.trim_ascii(b.user_id) in (select user_id from users_keys)
  -- versions of ingestions processed before or now: one that commits while this runs is
  -- left whole for the next run
  and (b.ingestion_id in (select ingestion_id from users_ingestions)
       or b.ingestion_id in (select p.ingestion_id from ops.processed_ingestions as p
                             where p.entity = 'users'))
union all
select user_id, email, full_name, country, signup_date, subscription_tier, birth_year,
       updated_at, extra, ingestion_id, source_file, source_row, ingestion_timestamp, true as is_new
from users_new_rows
where coalesce(new_key, '') = '';

analyze users_scope;

-- mode: all
-- counts: read
create temporary table users_staged on commit drop as
with

bronze_users as (
    select * from users_scope
),

trimmed as (
    select
        silver.trim_ascii(user_id)           as user_id,
        silver.trim_ascii(email)             as email,
        silver.trim_ascii(full_name)         as full_name,
        silver.trim_ascii(country)           as country,
        silver.trim_ascii(signup_date)       as signup_date,
        silver.trim_ascii(subscription_tier) as subscription_tier,
        silver.trim_ascii(birth_year)        as birth_year,
        silver.trim_ascii(updated_at)        as updated_at,
        ingestion_id,
        source_file,
        source_row,
        is_new
    from bronze_users
),

versioned as (
    select
        *,
        silver.parse_timestamp(updated_at) as updated_at_ts
    from trimmed
),

ranked as (
    select
        *,
        row_number() over (
            partition by user_id collate "C"  -- equality only: byte comparison is enough
            order by updated_at_ts desc nulls last,
                     source_file collate "C" desc, ingestion_id desc, source_row desc
        ) as version_rank
    from versioned
),

final as (
    select
        case
            when coalesce(user_id, '') = '' then 'rejected'
            when version_rank = 1 then 'silver'
            else 'superseded'
        end as outcome,
        case when coalesce(user_id, '') = '' then 'missing_key' end as reason,
        *
    from ranked
)

select * from final;

-- mode: full
truncate silver.users, silver.users_rejected;

create temporary table users_removed (outcome text, reason text) on commit drop;

-- mode: incremental
create temporary table users_old on commit drop as
select * from silver.users where user_id in (select user_id from users_keys);

delete from silver.users where user_id in (select user_id from users_keys);

create temporary table users_removed on commit drop as
select 'silver'::text as outcome, null::text as reason from users_old;

-- mode: all

insert into silver.users (
    user_id, email, full_name, country, signup_date, subscription_tier, birth_year, updated_at,
    ingestion_id, source_file, source_row
)
with

current_users as (
    select * from users_staged where outcome = 'silver'
),

-- Materialized: each parsed value is used twice below (test, then value), and a flattened
-- query would parse it twice.
parsed as materialized (
    select
        user_id,
        silver.ascii_lower(email) as email,
        nullif(full_name, '') as full_name,
        silver.ascii_upper(country) as country,
        silver.parse_date(signup_date) as signup_date,
        silver.ascii_lower(subscription_tier) as subscription_tier,
        silver.parse_bigint(birth_year) as birth_year,
        updated_at_ts as updated_at,
        ingestion_id,
        source_file,
        source_row
    from current_users
),

final as (
    select
        user_id,
        case when email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' then email end as email,
        full_name,
        case when country ~ '^[A-Z]{2}$' then country end as country,
        signup_date,
        case when subscription_tier in ('free', 'basic', 'standard', 'premium')
             then subscription_tier else 'unknown' end as subscription_tier,
        case when birth_year between 1900 and extract(year from now() at time zone 'UTC')
             then birth_year end as birth_year,
        updated_at,
        ingestion_id,
        source_file,
        source_row
    from parsed
)

select * from final;

insert into silver.users_rejected (user_id, reason, ingestion_id, source_file, source_row, raw_record)
select
    nullif(s.user_id, ''),
    s.reason,
    b.ingestion_id, b.source_file, b.source_row,
    jsonb_build_object(
        'user_id', b.user_id, 'email', b.email, 'full_name', b.full_name, 'country', b.country,
        'signup_date', b.signup_date, 'subscription_tier', b.subscription_tier,
        'birth_year', b.birth_year, 'updated_at', b.updated_at)
    || case when b.extra is not null then jsonb_build_object('extra', b.extra) else '{}' end
from users_staged as s
join users_scope as b using (ingestion_id, source_row)
where s.outcome = 'rejected';

select ops.record_entity_accounting_delta('users', 'users_staged', 'users_removed');

insert into ops.processed_ingestions (entity, ingestion_id, run_id)
select 'users', ingestion_id, current_setting('medallion.run_id') from users_ingestions
on conflict do nothing;

-- mode: incremental
-- The keys whose silver row changed: new users may resurrect orphan sessions, and a new
-- country or tier moves the user's facts between groups.
create temporary table users_changed on commit drop as
select user_id from (
    select * from users_old
    except all
    select * from silver.users where user_id in (select user_id from users_keys)
) as gone
union
select user_id from (
    select * from silver.users where user_id in (select user_id from users_keys)
    except all
    select * from users_old
) as came;

insert into ops.model_queue (model, kind, key)
select consumer, 'user', user_id
from users_changed
cross join (values ('silver.viewing_sessions'), ('gold.fact_viewing'),
                   ('gold.user_engagement')) as c (consumer)
on conflict do nothing;
