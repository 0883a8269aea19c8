-- The console's aggregates consume the signed changes of gold.fact_viewing too (issue 13):
-- gold.daily_segment_viewing adds them into its (date, country, tier, device) groups, so
-- each change carries the fact's country and tier (the old ones on the -1 row, the new ones
-- on the +1 row); gold.user_daily_viewing recomputes the (user, date, device) groups the
-- changes touch.
alter table ops.fact_viewing_delta
    add column if not exists country           text collate "C",
    add column if not exists subscription_tier text collate "C";
