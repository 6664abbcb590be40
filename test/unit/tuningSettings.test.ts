// The server-settings advice: a pure function of the machine and the current settings (no database).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adviseSettings, autovacuumAdvice, type CurrentSettings, type Machine } from '../../src/ops/tuning/settingsAdvice.ts';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const machine: Machine = { memoryBytes: 16 * GiB, cores: 8, disk: 'ssd' };
/** PostgreSQL's shipped defaults. */
const defaults: CurrentSettings = {
  shared_buffers: 128 * MiB, effective_cache_size: 4 * GiB, work_mem: 4 * MiB, maintenance_work_mem: 64 * MiB,
  random_page_cost: 4, max_connections: 100, max_parallel_workers_per_gather: 2, max_parallel_workers: 8,
};

test('on a 16 GiB SSD machine the defaults are flagged with the suggested values', () => {
  const advice = Object.fromEntries(adviseSettings(machine, defaults).map((a) => [a.name, a]));
  assert.equal(advice.shared_buffers!.suggested, 4 * GiB);
  assert.equal(advice.shared_buffers!.status, 'low');
  assert.equal(advice.effective_cache_size!.suggested, 12 * GiB);
  assert.equal(advice.effective_cache_size!.status, 'low');
  assert.equal(advice.maintenance_work_mem!.suggested, 1 * GiB);
  assert.equal(advice.random_page_cost!.suggested, 1.1);
  assert.equal(advice.random_page_cost!.status, 'high');
  // (16 GiB − 4 GiB) ÷ (100 connections × 3 sorts or hashes each × 4 parallel workers per gather,
  // half of the 8 cores, each with its own work_mem) ≈ 10.2 MiB, rounded down to a MiB.
  assert.equal(advice.work_mem!.suggested, 10 * MiB);
  assert.equal(advice.max_parallel_workers_per_gather!.suggested, 4);
  assert.equal(advice.max_parallel_workers!.suggested, 8);
  assert.equal(advice.max_parallel_workers!.status, 'ok');
  for (const a of Object.values(advice)) assert.ok(a.reason.length > 10, a.name);
});

test('settings within a factor of the suggestion are ok; memory is capped and floored', () => {
  const tuned: CurrentSettings = { shared_buffers: 3 * GiB, effective_cache_size: 12 * GiB, work_mem: 8 * MiB, maintenance_work_mem: 1 * GiB, random_page_cost: 1.1, max_connections: 100, max_parallel_workers_per_gather: 4, max_parallel_workers: 8 };
  for (const a of adviseSettings(machine, tuned)) assert.equal(a.status, 'ok', `${a.name}: ${a.current} vs ${a.suggested}`);
  const big = Object.fromEntries(adviseSettings({ memoryBytes: 512 * GiB, cores: 64, disk: 'ssd' }, defaults).map((a) => [a.name, a.suggested]));
  assert.equal(big.maintenance_work_mem, 2 * GiB);
  const tiny = Object.fromEntries(adviseSettings({ memoryBytes: 512 * MiB, cores: 1, disk: 'hdd' }, { ...defaults, max_connections: 1000 }).map((a) => [a.name, a.suggested]));
  assert.equal(tiny.work_mem, 1 * MiB);
  assert.equal(tiny.random_page_cost, 4);
  // One core: no parallel workers (a worker would only compete with its leader).
  assert.equal(tiny.max_parallel_workers_per_gather, 0);
  assert.equal(tiny.max_parallel_workers, 1);
  const two = Object.fromEntries(adviseSettings({ memoryBytes: 8 * GiB, cores: 2, disk: 'ssd' }, defaults).map((a) => [a.name, a]));
  assert.equal(two.max_parallel_workers_per_gather!.suggested, 1);
  assert.equal(two.max_parallel_workers!.status, 'high');
});

test('an unknown disk gives no random_page_cost advice', () => {
  const names = adviseSettings({ ...machine, disk: 'unknown' }, defaults).map((a) => a.name);
  assert.ok(!names.includes('random_page_cost'));
});

test('busy large tables get a per-table autovacuum scale factor; small or already-set ones do not', () => {
  const advice = autovacuumAdvice([
    { table: 'article_events', liveTuples: 50_000_000, modifications: 9_000_000, vacuumScaleFactor: null, analyzeScaleFactor: null },
    { table: 'users', liveTuples: 2_000, modifications: 9_000, vacuumScaleFactor: null, analyzeScaleFactor: null },
    { table: 'articles', liveTuples: 5_000_000, modifications: 100, vacuumScaleFactor: 0.01, analyzeScaleFactor: 0.005 },
  ], { vacuumScaleFactor: 0.2, analyzeScaleFactor: 0.1 });
  assert.deepEqual(advice.map((a) => a.table), ['article_events']);
  const a = advice[0]!;
  // 100k dead rows before a vacuum instead of 10 million (0.2 × 50 M).
  assert.equal(a.vacuumScaleFactor, 0.002);
  assert.equal(a.analyzeScaleFactor, 0.001);
  assert.match(a.sql, /^ALTER TABLE "article_events" SET \(autovacuum_vacuum_scale_factor = 0\.002, autovacuum_analyze_scale_factor = 0\.001\)$/);
});
