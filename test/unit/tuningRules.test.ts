// The advisor's pure rules: which filter columns make an index, which sort keys extend it, which
// index covers another, sizes and parameter counts, and the migration text (no database).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lintSql } from '../../src/migrate/lint/lint.ts';
import { parameterCount } from '../../src/ops/tuning/genericPlan.ts';
import { isPrefixOf } from '../../src/ops/tuning/indexes.ts';
import { indexMigrationSql } from '../../src/ops/tuning/indexMigration.ts';
import { parseSize } from '../../src/ops/tuning/machine.ts';
import { createIndexSql, filterColumns, indexName, sortColumns, type IndexCandidate } from '../../src/ops/tuning/missingIndexes.ts';

const cols = new Set(['author_id', 'article_id', 'created_at', 'status', 'body']);

test('filter columns: equalities first in order, then one range column; expressions and ORs give nothing', () => {
  assert.deepEqual(filterColumns('((created_at > $2) AND (author_id = $1))', cols), [{ column: 'author_id', kind: 'equality' }, { column: 'created_at', kind: 'range' }]);
  assert.deepEqual(filterColumns("((status = 'published'::text) AND (article_id = ANY ($1)))", cols).map((f) => f.column), ['status', 'article_id']);
  assert.deepEqual(filterColumns('(author_id IS NULL)', cols).map((f) => f.column), ['author_id']);
  assert.deepEqual(filterColumns('((author_id = $1) OR (article_id = $2))', cols), []);
  assert.deepEqual(filterColumns('(lower(body) = $1)', cols), []);
  assert.deepEqual(filterColumns('(body ~~ $1)', cols), []);
  assert.deepEqual(filterColumns('(unknown_col = $1)', cols), []);
});

test('sort keys extend the index only when all are plain columns in one direction', () => {
  assert.deepEqual(sortColumns(['created_at DESC'], cols), ['created_at']);
  assert.deepEqual(sortColumns(['comments.created_at', 'comments.article_id'], cols), ['created_at', 'article_id']);
  assert.deepEqual(sortColumns(['created_at DESC', 'article_id'], cols), []);
  assert.deepEqual(sortColumns(['created_at DESC NULLS LAST'], cols), []);
  assert.deepEqual(sortColumns(['(created_at + $1)'], cols), []);
  assert.deepEqual(sortColumns(undefined, cols), []);
});

test('an index covers another when the other\'s keys, classes and orders lead its own, on the same table, method, expressions and predicate', () => {
  const base = { table: 'comments', am: 'btree', nkeys: 1, keys: [3], classes: ['3124'], options: [0], exprs: '', pred: '' };
  const wide = { ...base, nkeys: 2, keys: [3, 6], classes: ['3124', '3128'], options: [0, 0] };
  assert.equal(isPrefixOf(base, wide), true);
  assert.equal(isPrefixOf(wide, base), false);
  assert.equal(isPrefixOf({ ...base, options: [3] }, wide), false);
  assert.equal(isPrefixOf({ ...base, pred: '(deleted_at IS NULL)' }, wide), false);
  assert.equal(isPrefixOf({ ...base, am: 'gin' }, { ...wide, am: 'gin' }), false);
  assert.equal(isPrefixOf(base, { ...base, table: 'articles' }), false);
});

test('sizes and parameter counts', () => {
  assert.equal(parseSize('16GiB'), 16 * 1024 ** 3);
  assert.equal(parseSize('512 MB'), 512 * 1024 ** 2);
  assert.equal(parseSize('2048'), 2048);
  assert.equal(parseSize('lots'), undefined);
  assert.equal(parseSize('5 parsecs'), undefined);
  assert.equal(parameterCount('SELECT $1, $12, $3'), 12);
  assert.equal(parameterCount('SELECT 1'), 0);
});

test('the index migration is no-transaction, concurrent, idempotent and lint-clean, whatever the statement text holds', async () => {
  const name = indexName('comments', ['author_id', 'created_at']);
  const cand: IndexCandidate = {
    table: 'comments', columns: ['author_id', 'created_at'], name, sql: createIndexSql('comments', ['author_id', 'created_at'], name),
    queryid: '42', query: 'SELECT 1\n-- pgpress:no-transaction\nFROM comments WHERE author_id = $1; DROP TABLE x', filter: '(author_id = $1)',
    tableRows: 1e6, estimatedRows: 100, seqScans: 10, seqTupRead: 1e7, hypothetical: { tested: true, costBefore: 1000, costAfter: 8, usesIndex: true }, recommended: true,
  };
  const sql = indexMigrationSql(cand);
  assert.equal(sql.split('\n')[0], '-- pgpress:no-transaction');
  // The statement text only ever lands on comment lines.
  assert.deepEqual(sql.split('\n').filter((l) => l !== '' && !l.startsWith('--')), ['CREATE INDEX CONCURRENTLY IF NOT EXISTS "comments_author_id_created_at_idx" ON "comments" ("author_id", "created_at");']);
  assert.deepEqual(await lintSql('x.sql', sql), []);
  assert.equal(indexName('a'.repeat(70), ['b']).length, 63);
});
