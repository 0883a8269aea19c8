-- Every state-changing action taken from the operations console: who, when, what, outcome.
create table if not exists ops.console_audit (
    audit_id  bigserial primary key,
    acted_at  timestamptz not null default now(),
    actor     text        not null,                   -- the signed-in console user
    action    text        not null,                   -- trigger | pause | unpause | clear_failed
    target    text        not null,                   -- dag_id, or dag_id/dag_run_id
    params    jsonb       not null default '{}'::jsonb,
    outcome   text        not null,                   -- success | failure | rejected (invalid input, not sent)
    detail    text,                                   -- the result or the error, as shown to the user
    constraint console_audit_outcome_check check (outcome in ('success', 'failure', 'rejected'))
);
create index if not exists console_audit_acted_at_idx on ops.console_audit (acted_at desc);
