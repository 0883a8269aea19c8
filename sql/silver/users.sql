-- silver.users: one current row per user_id (data-contract.md, section 3).
-- The latest version of a key is the one with the greatest valid updated_at (an invalid or
-- empty one counts as the oldest), ties going to the later row (source_file in byte order,
-- then ingestion, then row). A row with an empty user_id is rejected as missing_key.
-- builds: silver.users, silver.users_rejected
create temporary table users_staged on commit drop as
with

bronze_users as (
    select * from bronze.users
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
        source_row
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

truncate silver.users, silver.users_rejected;

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
join bronze.users as b using (ingestion_id, source_row)
where s.outcome = 'rejected';

select ops.record_entity_accounting('users', 'users_staged');
