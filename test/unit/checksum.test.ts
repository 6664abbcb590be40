import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checksumOf, normalizeSql } from '../../src/migrate/checksum.ts';

test('normalisation drops comments and layout but keeps every literal byte', () => {
  assert.equal(normalizeSql("-- c\nSELECT  a ,\n b /* x */ FROM t WHERE s = 'a  -- b';"), "SELECT a,b FROM t WHERE s='a  -- b';");
  assert.equal(normalizeSql('CREATE FUNCTION f() RETURNS int AS $$ SELECT  1 $$ LANGUAGE sql'), 'CREATE FUNCTION f()RETURNS int AS $$ SELECT  1 $$ LANGUAGE sql');
  assert.equal(normalizeSql('SELECT "My  Col" FROM t'), 'SELECT "My  Col" FROM t');
});

test('checksums ignore formatting, not content or flags', () => {
  const base = checksumOf('CREATE TABLE t (id int);');
  assert.equal(checksumOf('/* new comment */\nCREATE TABLE t (\n  id int\n);\n'), base);
  assert.notEqual(checksumOf('CREATE TABLE t (id bigint);'), base);
  assert.notEqual(checksumOf('CREATE TABLE t (id int);', ['no-transaction']), base);
  assert.notEqual(checksumOf(['CREATE TABLE t (id int);', 'SELECT 1']), base);
});
