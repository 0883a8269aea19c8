-- Keys and grouping columns of silver and gold compare in byte order (COLLATE "C").
-- With a linguistic default collation (even C.UTF-8 on PostgreSQL 15), every sort, group-by
-- and index build on these text columns goes through strcoll(): on 1M sessions that made
-- count(distinct) and the primary-key builds ~3x slower. Ids and codes have no linguistic
-- order to respect; for UTF-8, byte order is code-point order. Comparing a "C" column with a
-- default-collation one is not a conflict (the non-default collation wins).
alter table silver.users
    alter column user_id type text collate "C",
    alter column country type text collate "C";
alter table silver.users_rejected alter column user_id type text collate "C";
alter table silver.content alter column content_id type text collate "C";
alter table silver.content_genres
    alter column content_id type text collate "C",
    alter column genre type text collate "C";
alter table silver.content_cast alter column content_id type text collate "C";
alter table silver.content_rejected alter column content_id type text collate "C";
alter table silver.viewing_sessions
    alter column session_id type text collate "C",
    alter column user_id type text collate "C",
    alter column content_id type text collate "C",
    alter column device type text collate "C";
alter table silver.viewing_sessions_rejected alter column session_id type text collate "C";

alter table gold.fact_viewing
    alter column session_id type text collate "C",
    alter column user_id type text collate "C",
    alter column content_id type text collate "C",
    alter column device type text collate "C",
    alter column country type text collate "C",
    alter column subscription_tier type text collate "C",
    alter column primary_genre type text collate "C";
alter table gold.content_performance alter column content_id type text collate "C";
alter table gold.user_engagement alter column user_id type text collate "C";
alter table gold.genre_performance alter column genre type text collate "C";
alter table gold.country_insights alter column country type text collate "C";
alter table gold.daily_viewing alter column device type text collate "C";
