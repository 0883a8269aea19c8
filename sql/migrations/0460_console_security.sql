-- Console security (issue 12).
-- The audit is written ahead: a row is opened as 'pending' before the action is sent to
-- Airflow and closed with its outcome afterwards, so an action that cannot be audited is
-- never taken, and a 'pending' row that stays so marks an action whose outcome is unknown.
alter table ops.console_audit add column if not exists finished_at timestamptz;
alter table ops.console_audit drop constraint if exists console_audit_outcome_check;
alter table ops.console_audit add constraint console_audit_outcome_check
    check (outcome in ('pending', 'success', 'failure', 'rejected'));

-- Every sign-in attempt on the console, refused or not, with where it came from.
create table if not exists ops.console_signins (
    signin_id      bigserial   primary key,
    attempted_at   timestamptz not null default now(),
    user_name      text        not null,              -- as typed (the password never)
    client_address text        not null,              -- st.context.ip_address, 'localhost' when local
    forwarded_for  text,                              -- X-Forwarded-For as sent (a proxy's word, or a lie)
    outcome        text        not null,              -- success | refused | locked
    failures       integer     not null default 0,    -- consecutive failures of this user name so far
    locked_until   timestamptz,                       -- set when this attempt (re)started a lockout
    constraint console_signins_outcome_check check (outcome in ('success', 'refused', 'locked'))
);
create index if not exists console_signins_attempted_at_idx on ops.console_signins (attempted_at desc);
create index if not exists console_signins_user_idx on ops.console_signins (user_name, attempted_at desc);
