// timestamptz columns kept as PostgreSQL's text and turned into ISO 8601 strings directly: a
// query whose caller wants `toISOString()` of each value skips a Date per value (postgres-date
// runs three regular expressions and builds the Date; toISOString formats it back).
import pg from 'pg';

const TIMESTAMPTZ_OID = 1184;
const asText = (value: string): string => value;

/** Type parsers that leave timestamptz as text (every other type as pg's registry parses it). */
export const TIMESTAMPTZ_AS_TEXT: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === TIMESTAMPTZ_OID && format !== 'binary' ? asText : pg.types.getTypeParser(oid, format as 'text')) as pg.CustomTypesConfig['getTypeParser'],
};

// What a session with TimeZone UTC and DateStyle ISO prints for a year 1–9999: the fast path.
const UTC_TEXT = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(\.\d{1,6})?\+00$/;

/**
 * The ISO 8601 string `toISOString()` gives for the Date node-postgres parses from a timestamptz's
 * text, exactly: milliseconds truncated as postgres-date and Date.UTC truncate them (the fraction
 * times 1000, then cut). Any other form (another time zone, BC, infinity) goes through the Date.
 */
export function isoTimestamp(text: string): string {
  const m = UTC_TEXT.exec(text);
  if (m === null) return (pg.types.getTypeParser(TIMESTAMPTZ_OID, 'text')(text) as Date).toISOString();
  const ms = m[3] === undefined ? 0 : Math.trunc(1000 * parseFloat(m[3]));
  return `${m[1]}T${m[2]}.${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z`;
}
