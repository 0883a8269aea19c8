-- The accounting identity of one silver build, from the model's staging table
-- (one row per bronze row, with `outcome` silver | superseded | rejected and
-- the rejection `reason`), written to ops.entity_accounting for the run in
-- `medallion.run_id`. One function, so the three silver models share one rule.
create or replace function ops.record_entity_accounting(p_entity text, p_staged regclass)
returns void
language plpgsql
as $fn$
begin
    execute format($sql$
        insert into ops.entity_accounting (
            run_id, entity, bronze_rows, silver_rows, superseded_rows, rejected_rows,
            rejected_by_reason
        )
        select
            current_setting('medallion.run_id'),
            %1$L,
            count(*),
            count(*) filter (where outcome = 'silver'),
            count(*) filter (where outcome = 'superseded'),
            count(*) filter (where outcome = 'rejected'),
            coalesce((select jsonb_object_agg(reason, n) from (
                select reason, count(*) as n from %2$s where reason is not null group by reason
            ) as r), '{}'::jsonb)
        from %2$s
        on conflict (run_id, entity) do update set
            bronze_rows = excluded.bronze_rows, silver_rows = excluded.silver_rows,
            superseded_rows = excluded.superseded_rows, rejected_rows = excluded.rejected_rows,
            rejected_by_reason = excluded.rejected_by_reason, measured_at = now()
    $sql$, p_entity, p_staged);
end
$fn$;
