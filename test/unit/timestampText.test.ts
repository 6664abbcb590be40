// isoTimestamp gives, for every text PostgreSQL prints for a timestamptz, the string node-postgres's
// Date would (postgres-date, then toISOString): search hits are built from it instead of a Date.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { TIMESTAMPTZ_AS_TEXT, isoTimestamp } from '../../src/db/timestampText.ts';

const viaDate = (text: string): string => (pg.types.getTypeParser(1184, 'text')(text) as Date).toISOString();

test('UTC texts: the same ISO string as through a Date, fractions of 0-6 digits truncated alike', () => {
  // Fractions whose float product falls just under or over a whole millisecond (0.285 * 1000,
  // 0.57 * 1000 …): the Date path truncates the float, so must the fast path.
  const fractions = ['', '.0', '.5', '.05', '.005', '.0005', '.285', '.57', '.035', '.145', '.29', '.999', '.9999', '.999999', '.000001', '.1', '.84', '.658', '.123456'];
  const stamps = ['2026-10-20 21:30:00', '1999-12-31 23:59:59', '0001-01-01 00:00:00', '0099-06-15 12:00:00', '0100-01-01 00:00:00', '1970-01-01 00:00:00', '9999-12-31 23:59:59', '2024-02-29 06:07:08'];
  let n = 0;
  for (const s of stamps) {
    for (const f of fractions) {
      const text = `${s}${f}+00`;
      assert.equal(isoTimestamp(text), viaDate(text), text);
      n++;
    }
  }
  // Every fraction of three digits, and a spread of six-digit ones.
  for (let ms = 0; ms < 1000; ms++) {
    const text = `2026-03-0${1 + (ms % 9)} 0${ms % 10}:1${ms % 6}:2${ms % 10}.${String(ms).padStart(3, '0')}+00`;
    assert.equal(isoTimestamp(text), viaDate(text), text);
    const micro = `2026-03-04 05:06:07.${String((ms * 7919 + 13) % 1_000_000).padStart(6, '0')}+00`;
    assert.equal(isoTimestamp(micro), viaDate(micro), micro);
    n += 2;
  }
  assert.ok(n > 2000);
});

test('other forms (time zones, BC) go through the Date: the same answer', () => {
  for (const text of ['2026-10-20 23:30:00.84+02', '2026-10-20 16:00:00-05:30', '2026-10-20 21:30:00+00:00:30', '0044-03-15 12:00:00+00 BC']) {
    assert.equal(isoTimestamp(text), viaDate(text), text);
  }
  assert.throws(() => isoTimestamp('infinity'), TypeError, 'no ISO string for infinity, as before');
});

test('TIMESTAMPTZ_AS_TEXT leaves timestamptz as text and parses every other type as pg does', () => {
  assert.equal(TIMESTAMPTZ_AS_TEXT.getTypeParser(1184, 'text')('2026-10-20 21:30:00+00'), '2026-10-20 21:30:00+00');
  for (const oid of [20, 23, 700, 701, 1082, 1114, 16, 3802]) {
    assert.equal(TIMESTAMPTZ_AS_TEXT.getTypeParser(oid, 'text'), pg.types.getTypeParser(oid, 'text'), `oid ${oid}`);
  }
});
