-- gold.fact_viewing partitioned by month of session_date (issue 13): the console's date
-- filters scan only the months they select, and an old month can be detached whole.
--
-- Partitions: gold.fact_viewing_YYYY_MM, one per month that has sessions, created by
-- gold.add_fact_viewing_partitions before rows of that month are inserted (by the full
-- refresh for every month present in silver, by an incremental run for the months of the
-- facts it recomputed). Only months from 2000-01 to 2099-12 get a partition of their own:
-- the contract accepts any calendar date from year 0000 to 9999, and a feed with absurd
-- dates must not create thousands of tables. Facts outside that window land in
-- gold.fact_viewing_default, the DEFAULT partition; so do rows inserted by hand for a
-- month without a partition (test data): they are still read, only not pruned, and move to
-- their month's partition when it is created. session_date is not null (started_at is),
-- so no null key reaches the partitions.
--
-- The primary key of a partitioned table must contain the partition key: it is
-- (session_id, session_date). session_id stays unique because silver.viewing_sessions is
-- keyed by it and fact_viewing holds one row per silver session; lookups by session_id
-- alone use the key's index (leading column) in each partition.
-- The former index on session_date alone is not re-created: fact_viewing_day_user_idx
-- (session_date, device, user_id) serves the same searches, and one index fewer is one
-- sort fewer in every full refresh.

-- Free the names of the table's indexes and key; the old table goes once copied.
alter table gold.fact_viewing rename to fact_viewing_unpartitioned;
alter table gold.fact_viewing_unpartitioned drop constraint fact_viewing_pkey;
drop index gold.fact_viewing_session_date_idx, gold.fact_viewing_content_idx,
    gold.fact_viewing_country_idx, gold.fact_viewing_device_idx, gold.fact_viewing_user_idx,
    gold.fact_viewing_content_user_idx, gold.fact_viewing_day_user_idx;

create table gold.fact_viewing (
    session_id        text collate "C" not null,
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
) partition by range (session_date);

create table gold.fact_viewing_default partition of gold.fact_viewing default;

-- Create the monthly partitions that the given dates need and do not have yet (dates
-- outside 2000-01..2099-12 need none: the DEFAULT partition holds them). A new partition
-- is created standalone, takes the rows of its month from the DEFAULT partition (if any),
-- and is then attached, which takes only a SHARE UPDATE EXCLUSIVE lock on
-- gold.fact_viewing, so the console keeps reading while an incremental run adds a month;
-- the attach gives it the table's indexes. Returns the number created.
create or replace function gold.add_fact_viewing_partitions(p_dates date[])
returns integer
language plpgsql
as $fn$
declare
    month_start date;
    month_end date;
    partition_name text;
    created integer := 0;
begin
    for month_start in
        select distinct date_trunc('month', d::timestamp)::date
        from unnest(p_dates) as d
        where d >= date '2000-01-01' and d < date '2100-01-01'
        order by 1
    loop
        partition_name := 'fact_viewing_' || to_char(month_start, 'YYYY_MM');
        continue when to_regclass('gold.' || partition_name) is not null;
        month_end := (month_start + interval '1 month')::date;
        execute format('create table gold.%I (like gold.fact_viewing including defaults)',
                       partition_name);
        execute format('with moved as (delete from gold.fact_viewing_default '
                       'where session_date >= %L and session_date < %L returning *) '
                       'insert into gold.%I select * from moved',
                       month_start, month_end, partition_name);
        execute format('alter table gold.fact_viewing attach partition gold.%I '
                       'for values from (%L) to (%L)', partition_name, month_start, month_end);
        created := created + 1;
    end loop;
    return created;
end
$fn$;

-- For a full refresh, after it emptied the table: drop the monthly partitions of months
-- that are no longer present (an empty partition is harmless, but a month of facts that
-- moved away would otherwise stay as an empty table for ever). Refuses to drop a partition
-- that holds rows. Returns the number dropped.
create or replace function gold.drop_fact_viewing_partitions_except(p_dates date[])
returns integer
language plpgsql
as $fn$
declare
    partition_name text;
    has_rows boolean;
    dropped integer := 0;
begin
    for partition_name in
        select c.relname
        from pg_inherits as i
        join pg_class as c on c.oid = i.inhrelid
        where i.inhparent = 'gold.fact_viewing'::regclass
          and c.relname ~ '^fact_viewing_[0-9]{4}_[0-9]{2}$'
          and c.relname not in (select 'fact_viewing_' || to_char(d, 'YYYY_MM')
                                from unnest(p_dates) as d where d is not null)
    loop
        execute format('select exists (select from gold.%I)', partition_name) into has_rows;
        if has_rows then
            raise exception 'gold.% holds rows: empty gold.fact_viewing before dropping its '
                            'partitions', partition_name;
        end if;
        execute format('drop table gold.%I', partition_name);
        dropped := dropped + 1;
    end loop;
    return dropped;
end
$fn$;

select gold.add_fact_viewing_partitions(
    array(select distinct date_trunc('month', session_date::timestamp)::date
          from gold.fact_viewing_unpartitioned));

insert into gold.fact_viewing select * from gold.fact_viewing_unpartitioned;
drop table gold.fact_viewing_unpartitioned;

-- Built after the copy: one sort per index and partition instead of row-by-row upkeep.
alter table gold.fact_viewing add constraint fact_viewing_pkey primary key (session_id, session_date);
create index fact_viewing_content_idx on gold.fact_viewing (content_id);
create index fact_viewing_country_idx on gold.fact_viewing (country);
create index fact_viewing_device_idx on gold.fact_viewing (device);
create index fact_viewing_user_idx on gold.fact_viewing (user_id);
create index fact_viewing_content_user_idx on gold.fact_viewing (content_id, user_id);
create index fact_viewing_day_user_idx on gold.fact_viewing (session_date, device, user_id);
analyze gold.fact_viewing;
