// The advisor's advice works: with the index a workload needs dropped, `tune` finds it (checked
// with HypoPG), writes a lint-clean migration, the real migrate runner applies it, and the
// statement's plan uses the index and runs faster (bench/tune.ts, at a small scale).
import { basename } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lintSql } from '../../src/migrate/index.ts';
import { validateTuning } from '../../bench/tune.ts';

test('the advisor finds the dropped comments_author_idx, its migration restores an index scan and the statement gets faster', async (t) => {
  const v = await validateTuning({ comments: 60_000, rounds: 5, log: (l) => t.diagnostic(l) });
  assert.match(v.planBefore, /^Seq Scan on comments/);
  // The workload's statement is among the top statements, with its generic plan (PostgreSQL 15: PREPARE + force_generic_plan).
  assert.ok(v.report.statements.available);
  const top = v.report.statements.items.find((s) => s.query.includes('FROM comments WHERE author_id = $1'));
  assert.ok(top && 'method' in top.plan, JSON.stringify(v.report.statements.items.map((s) => [s.query, s.plan])));
  assert.equal(top.plan.method, v.report.serverVersionNum >= 160000 ? 'generic_plan' : 'prepared_generic');
  assert.match(top.plan.text, /Seq Scan on comments/);

  // The candidate: equality column, then the sort's column; HypoPG saw the plan use it and cost less.
  assert.deepEqual(v.candidate.columns, ['author_id', 'created_at']);
  assert.ok(v.candidate.hypothetical.tested, JSON.stringify(v.candidate.hypothetical));
  assert.ok(v.candidate.hypothetical.usesIndex);
  assert.ok(v.candidate.hypothetical.costAfter < v.candidate.hypothetical.costBefore / 2, JSON.stringify(v.candidate.hypothetical));
  assert.equal(v.candidate.recommended, true);

  // The migration: no-transaction first line, concurrent and idempotent, lint-clean.
  const lines = v.migrationSql.split('\n');
  assert.equal(lines[0], '-- pgpress:no-transaction');
  assert.match(v.migrationSql, /^CREATE INDEX CONCURRENTLY IF NOT EXISTS "comments_author_id_created_at_idx" ON "comments" \("author_id", "created_at"\);$/m);
  assert.deepEqual(await lintSql('tune.sql', v.migrationSql), []);
  // The advisor built nothing; the runner applied that file and nothing else.
  assert.equal(v.builtByAdvisor, false);
  assert.deepEqual(v.applied.map((a) => `${a}.sql`), [basename(v.migrationFile)]);

  // Applied: the plan uses it, and the statement is faster (an index probe of ~60 rows against a
  // scan of 60 000: far more than the 2× bound, which leaves room for a loaded machine).
  // An index scan (backwards, for the DESC order) or a bitmap scan of it, as the planner prices them.
  assert.match(v.planAfter, /Index Scan.* using comments_author_id_created_at_idx/);
  t.diagnostic(`without ${v.withoutMs.toFixed(1)} ms, with ${v.withMs.toFixed(1)} ms, ratio ${v.ratio.toFixed(1)}`);
  assert.ok(v.ratio > 2, `ratio ${v.ratio}`);
});
