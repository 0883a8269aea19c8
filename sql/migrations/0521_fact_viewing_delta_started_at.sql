-- The signed changes of gold.fact_viewing carry the fact's start too (issue 13), so that
-- gold.user_daily_viewing (first and last start of a group) tells a change it reads from
-- one it does not (a content's new duration, title or genres changes 3% of the facts and
-- none of their groups): the two rows of a fact that changed neither cancel.
alter table ops.fact_viewing_delta
    add column if not exists started_at timestamptz;
