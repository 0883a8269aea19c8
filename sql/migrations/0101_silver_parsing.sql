-- Parsing functions for silver: the contract's grammar (data-contract.md, section 3),
-- never PostgreSQL's permissive casts ('now', 'epoch', 'infinity', '24:00', 'allballs'
-- are not timestamps). Each function shape-tests its input before any cast, so no
-- value can raise an error, and none depends on the session TimeZone or locale.
-- The cheap ones are single-expression SQL functions so that the planner inlines them.

-- Surrounding ASCII whitespace: space, tab, LF, CR, form feed, vertical tab.
create or replace function silver.trim_ascii(s text) returns text
language sql immutable strict parallel safe as
$$ select btrim(s, E' \t\n\r\f\x0B') $$;

-- Case mapping is ASCII only (lower()/upper() follow the locale and touch non-ASCII letters).
create or replace function silver.ascii_lower(s text) returns text
language sql immutable strict parallel safe as
$$ select translate(s, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') $$;

create or replace function silver.ascii_upper(s text) returns text
language sql immutable strict parallel safe as
$$ select translate(s, 'abcdefghijklmnopqrstuvwxyz', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ') $$;

-- A valid proleptic Gregorian calendar date (year 1 or later: PostgreSQL has no year 0).
create or replace function silver.is_calendar_date(y integer, m integer, d integer) returns boolean
language sql immutable strict parallel safe as
$$
select y >= 1 and m between 1 and 12 and d >= 1 and d <= case
    when m = 2 then case when (y % 4 = 0 and y % 100 <> 0) or y % 400 = 0 then 29 else 28 end
    when m in (4, 6, 9, 11) then 30
    else 31
end
$$;

-- Length of the offset suffix of a shape-valid ISO timestamp: 1 for 'Z', 6 for '+HH:MM', else 0.
-- Digits of the fraction can never stand where the sign of an offset stands.
create or replace function silver.iso_offset_length(s text) returns integer
language sql immutable strict parallel safe as
$$
select case
    when right(s, 1) = 'Z' then 1
    when length(s) >= 25 and substr(s, length(s) - 5, 1) in ('+', '-') then 6
    else 0
end
$$;

-- Timestamp: YYYY-MM-DD, 'T' or ' ', HH:MM:SS (hour 00-23, second 00-59), optional '.' and
-- 1-6 fraction digits, optional 'Z' or +-HH:MM (within +-23:59); no offset means UTC.
create or replace function silver.parse_timestamp(s text) returns timestamptz
language sql immutable strict parallel safe as
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
    then (left(s, length(s) - silver.iso_offset_length(s))::timestamp at time zone 'UTC')
         - case when silver.iso_offset_length(s) = 6
                then (case when substr(s, length(s) - 5, 1) = '-' then -1 else 1 end)
                     * make_interval(hours => substr(s, length(s) - 4, 2)::integer,
                                     mins => right(s, 2)::integer)
                else interval '0'
           end
end end
$$;

-- Date: YYYY-MM-DD or YYYY/MM/DD (two-digit month and day), or a valid timestamp's UTC date.
create or replace function silver.parse_date(s text) returns date
language sql immutable strict parallel safe as
$$
select case
    when s ~ '^[0-9]{4}(-[0-9]{2}-|/[0-9]{2}/)[0-9]{2}$' then case
        when silver.is_calendar_date(substr(s, 1, 4)::integer, substr(s, 6, 2)::integer,
                                     substr(s, 9, 2)::integer)
        then make_date(substr(s, 1, 4)::integer, substr(s, 6, 2)::integer, substr(s, 9, 2)::integer)
    end
    else (silver.parse_timestamp(s) at time zone 'UTC')::date
end
$$;

-- Integer: optional sign and digits (leading zeros allowed), within the 64-bit range.
create or replace function silver.parse_bigint(s text) returns bigint
language sql immutable strict parallel safe as
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
create or replace function silver.parse_number(s text) returns double precision
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
create or replace function silver.json_text(v jsonb) returns text
language sql immutable strict parallel safe as
$$ select case when jsonb_typeof(v) = 'string' then nullif(silver.trim_ascii(v #>> '{}'), '') end $$;

-- A scalar for number/integer parsing: a JSON string (trimmed) or a JSON number's text.
create or replace function silver.json_scalar(v jsonb) returns text
language sql immutable strict parallel safe as
$$ select case when jsonb_typeof(v) in ('string', 'number') then silver.trim_ascii(v #>> '{}') end $$;
