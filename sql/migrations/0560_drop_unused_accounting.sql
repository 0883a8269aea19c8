-- ops.record_entity_accounting(entity, staged) wrote the accounting identity of a
-- full silver build. Since incremental processing (0500) every silver model, full or
-- incremental, calls ops.record_entity_accounting_delta instead; nothing calls the
-- two-argument function any more.
drop function if exists ops.record_entity_accounting(text, regclass);
