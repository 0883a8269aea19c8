-- The four schemas of the medallion: what arrived, what is clean, what is served, how it ran.
create schema if not exists bronze;
create schema if not exists silver;
create schema if not exists gold;
create schema if not exists ops;
