-- The key expression indexes of bronze.users and bronze.viewing_sessions (0501) compare
-- bytes (text_pattern_ops) instead of going through the database collation (issue 14).
-- Incremental transforms only look keys up by equality, which text_pattern_ops serves the
-- same way (its `=` is text equality); ordering by these indexes was never used. Bytewise
-- comparison is what makes them cheaper to build and keep up: sorting 2M keys for the
-- index of a large file's own table (0530) took 0.78 s of backend CPU under the C.UTF-8
-- collation and 0.52 s bytewise, where abbreviated keys apply.
drop index if exists bronze.users_key_idx;
create index users_key_idx on bronze.users (silver.trim_ascii(user_id) text_pattern_ops);
drop index if exists bronze.viewing_sessions_key_idx;
create index viewing_sessions_key_idx
    on bronze.viewing_sessions (silver.trim_ascii(session_id) text_pattern_ops);
