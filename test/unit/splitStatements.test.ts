import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitStatements } from '../../src/migrate/splitStatements.ts';

test('splits on top-level semicolons and reports start lines', () => {
  const s = splitStatements('CREATE TABLE a (x int);\n\n-- note; not a statement\nINSERT INTO a VALUES (1);\n');
  assert.deepEqual(s, [
    { text: 'CREATE TABLE a (x int)', line: 1 },
    { text: '-- note; not a statement\nINSERT INTO a VALUES (1)', line: 4 },
  ]);
});

test('keeps semicolons inside strings, identifiers, comments and dollar quotes', () => {
  const script = [
    "INSERT INTO t VALUES ('a;b', 'it''s;', E'x\\';y');",
    'SELECT 1 AS "we;ird";',
    '/* outer /* nested; */ still; */ SELECT 2;',
    'CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $body$ BEGIN RETURN 1; END; $body$;',
    'DO $$ BEGIN PERFORM 1; END $$;',
  ].join('\n');
  const s = splitStatements(script);
  assert.equal(s.length, 5);
  assert.match(s[0]!.text, /E'x\\';y'\)$/);
  assert.equal(s[1]!.text, 'SELECT 1 AS "we;ird"');
  assert.match(s[2]!.text, /SELECT 2$/);
  assert.match(s[3]!.text, /END; \$body\$$/);
  assert.deepEqual(s.map((x) => x.line), [1, 2, 3, 4, 5]);
});

test('a script of only comments has no statements', () => {
  assert.deepEqual(splitStatements('-- nothing\n/* here */\n'), []);
});
