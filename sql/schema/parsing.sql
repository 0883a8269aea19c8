-- Parsing functions for silver: the contract's grammar (data-contract.md, section 3),
-- never PostgreSQL's permissive casts. Each function shape-tests its input before any
-- cast, so no value can raise an error, and none depends on the session TimeZone or
-- locale (tests/integration/test_silver_parsing.py holds them to the contract).
--
-- Speed: the planner inlines a SQL function only when it is not STRICT (a CASE is not
-- strict) and, being IMMUTABLE, calls nothing mutable. So the SQL functions here are
-- single expressions, declared without STRICT (null in, null out all the same), and
-- avoid text-to-timestamp casts and timestamptz - interval (both STABLE): an inlined
-- call costs ~1 us, a real call ~150 us.

-- Surrounding ASCII whitespace: space, tab, LF, CR, form feed, vertical tab.
create function silver.trim_ascii(s text) returns text
language sql immutable parallel safe as
$$ select btrim(s, E' \t\n\r\f\x0B') $$;

-- Case mapping is ASCII only. lower()/upper() follow the locale and touch non-ASCII
-- letters; under COLLATE "C" they map ASCII letters only and leave every other byte
-- alone, exactly the contract's ASCII case mapping (~0.3 us, where translate() with a
-- 26-letter map costs ~7 us per value in a UTF-8 database).
create function silver.ascii_lower(s text) returns text
language sql immutable parallel safe as
$$ select lower(s collate "C") $$;

create function silver.ascii_upper(s text) returns text
language sql immutable parallel safe as
$$ select upper(s collate "C") $$;

-- A valid proleptic Gregorian calendar date (year 1 or later: PostgreSQL has no year 0).
-- Days 1..28 exist in every month, so the month-length arithmetic runs only for days
-- 29..31 (the arguments are inlined substr() casts; this skips most of them).
create function silver.is_calendar_date(y integer, m integer, d integer) returns boolean
language sql immutable parallel safe as
$$
select m between 1 and 12 and d >= 1 and y >= 1 and (d <= 28 or d <= case
    when m = 2 then case when (y % 4 = 0 and y % 100 <> 0) or y % 400 = 0 then 29 else 28 end
    when m in (4, 6, 9, 11) then 30
    else 31
end)
$$;

-- Length of the offset suffix of a shape-valid ISO timestamp: 1 for 'Z', 6 for '+HH:MM', else 0.
-- Digits of the fraction can never stand where the sign of an offset stands.
create function silver.iso_offset_length(s text) returns integer
language sql immutable parallel safe as
$$
select case
    when right(s, 1) = 'Z' then 1
    when length(s) >= 25 and substr(s, length(s) - 5, 1) in ('+', '-') then 6
    else 0
end
$$;

-- Timestamp, the contract's rule: YYYY-MM-DD, 'T' or ' ', HH:MM:SS (hour 00-23, second
-- 00-59), optional '.' and 1-6 fraction digits, optional 'Z' or +-HH:MM (within +-23:59);
-- no offset means UTC. Nothing else is a timestamp, even where PostgreSQL's own cast
-- would accept it: 'now', 'epoch', 'infinity', '24:00', 'allballs' are not timestamps.
-- This returns the UTC wall clock (timestamp without time zone), or null: built with
-- make_timestamp and the offset applied before it becomes a timestamptz, it needs no
-- session TimeZone at all.
create function silver.parse_timestamp_utc(s text) returns timestamp
language sql immutable parallel safe as
$$
select case when s ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})?$'
then case
    when substr(s, 12, 2) collate "C" <= '23'
     and substr(s, 15, 2) collate "C" <= '59'
     and substr(s, 18, 2) collate "C" <= '59'
     and silver.is_calendar_date(substr(s, 1, 4)::integer, substr(s, 6, 2)::integer,
                                 substr(s, 9, 2)::integer)
     and (silver.iso_offset_length(s) <> 6
          or (substr(s, length(s) - 4, 2) collate "C" <= '23' and right(s, 2) collate "C" <= '59'))
    then make_timestamp(substr(s, 1, 4)::integer, substr(s, 6, 2)::integer,
                        substr(s, 9, 2)::integer, substr(s, 12, 2)::integer,
                        substr(s, 15, 2)::integer,
                        -- seconds and up to 6 fraction digits; make_timestamp rounds to the
                        -- microsecond, so the binary float is exact enough
                        substr(s, 18, length(s) - 17 - silver.iso_offset_length(s))::double precision)
         - case when silver.iso_offset_length(s) = 6
                then (case when substr(s, length(s) - 5, 1) = '-' then -1 else 1 end)
                     * make_interval(hours => substr(s, length(s) - 4, 2)::integer,
                                     mins => right(s, 2)::integer)
                else interval '0'
           end
end end
$$;

-- A contract timestamp as timestamptz, or null (see parse_timestamp_utc for the rule).
create function silver.parse_timestamp(s text) returns timestamptz
language sql immutable parallel safe as
$$ select silver.parse_timestamp_utc(s) at time zone 'UTC' $$;

-- Date: YYYY-MM-DD or YYYY/MM/DD (two-digit month and day), or a valid timestamp's UTC date.
create function silver.parse_date(s text) returns date
language sql immutable parallel safe as
$$
select case
    when s ~ '^[0-9]{4}(-[0-9]{2}-|/[0-9]{2}/)[0-9]{2}$' then case
        when silver.is_calendar_date(substr(s, 1, 4)::integer, substr(s, 6, 2)::integer,
                                     substr(s, 9, 2)::integer)
        then make_date(substr(s, 1, 4)::integer, substr(s, 6, 2)::integer, substr(s, 9, 2)::integer)
    end
    else silver.parse_timestamp_utc(s)::date
end
$$;

-- Integer: optional sign and digits (leading zeros allowed), within the 64-bit range.
create function silver.parse_bigint(s text) returns bigint
language sql immutable parallel safe as
$$
select case when s ~ '^[+-]?[0-9]+$' then case
    when length(ltrim(ltrim(s, '+-'), '0')) < 19
      or (length(ltrim(ltrim(s, '+-'), '0')) = 19
          and ltrim(ltrim(s, '+-'), '0') collate "C"
              <= case when left(s, 1) = '-' then '9223372036854775808' else '9223372036854775807' end)
    then s::bigint
end end
$$;

-- Number: optional sign, digits, optional '.' and digits, optional exponent (no NaN, no
-- Infinity). A value beyond double precision's range is not a number (null); one too
-- small to represent becomes 0. Exponents beyond +-1000 are out of range too.
-- PL/pgSQL (never inlined), so STRICT saves the call on nulls.
create function silver.parse_number(s text) returns double precision
language plpgsql immutable strict parallel safe as
$$
declare
    parts text[];
    n numeric;
begin
    parts := regexp_match(s, '^[+-]?[0-9]+(\.[0-9]+)?([eE]([+-]?[0-9]+))?$');
    if parts is null then
        return null;
    end if;
    if parts[3] is not null and length(ltrim(ltrim(parts[3], '+-'), '0')) > 3 then
        return null;
    end if;
    n := s::numeric;
    if abs(n) > 1.7976931348623157e308 then
        return null;
    elsif abs(n) < 1e-300 then
        return 0;
    end if;
    return n::double precision;
end
$$;

-- JSON helpers for content documents.
-- A text field: a JSON string, trimmed; empty or not a string -> null.
create function silver.json_text(v jsonb) returns text
language sql immutable parallel safe as
$$ select case when jsonb_typeof(v) = 'string' then nullif(silver.trim_ascii(v #>> '{}'), '') end $$;

-- A scalar for number/integer parsing: a JSON string (trimmed) or a JSON number's text.
create function silver.json_scalar(v jsonb) returns text
language sql immutable parallel safe as
$$ select case when jsonb_typeof(v) in ('string', 'number') then silver.trim_ascii(v #>> '{}') end $$;

-- Parse a raw bronze value (trimming it first). Written so that, inlined with a column as
-- argument, the trim is computed once for the (usual) value that needs none, instead of
-- once for every one of the parser's references to its argument.
create function silver.trimmed_timestamp(raw text) returns timestamptz
language sql immutable parallel safe as
$$
select case when raw = silver.trim_ascii(raw) then silver.parse_timestamp(raw)
            else silver.parse_timestamp(silver.trim_ascii(raw)) end
$$;

create function silver.trimmed_bigint(raw text) returns bigint
language sql immutable parallel safe as
$$
select case when raw = silver.trim_ascii(raw) then silver.parse_bigint(raw)
            else silver.parse_bigint(silver.trim_ascii(raw)) end
$$;
