// `pgpress tune`: the command parses its flags and prints the advisor's report (text or JSON).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { loadSettings } from '../../src/config/settings.ts';
import { tuneCommand } from '../../src/cli/tune.ts';
import { isPgpressError } from '../../src/errors/index.ts';
import type { TuneReport } from '../../src/ops/tuning/advisor.ts';
import { testDatabase } from '../harness/testDatabase.ts';

const db = await testDatabase();

async function run(t: { mock: { method: (o: object, m: string, impl: (...a: unknown[]) => void) => unknown } }, args: string[]): Promise<string> {
  const lines: string[] = [];
  t.mock.method(console, 'log', (...a: unknown[]) => void lines.push(a.join(' ')));
  const program = new Command().exitOverride();
  tuneCommand(program, () => loadSettings({ ...process.env, DATABASE_URL: db.url }));
  await program.parseAsync(['tune', ...args], { from: 'user' });
  return lines.join('\n');
}

test('--json prints the whole report for the machine given', async (t) => {
  const r = JSON.parse(await run(t, ['--json', '--memory', '8GiB', '--cores', '4', '--disk', 'ssd'])) as TuneReport;
  assert.deepEqual(r.machine, { memoryBytes: 8 * 1024 ** 3, cores: 4, disk: 'ssd' });
  assert.equal(r.statements.available, false);
  assert.equal(r.settings.find((s) => s.name === 'shared_buffers')!.suggested, 2 * 1024 ** 3);
});

test('the text report names each section, and the reason of an absent one', async (t) => {
  const text = await run(t, ['--memory', '8GiB', '--disk', 'hdd']);
  for (const heading of ['== top statements by total time ==', '== tables read mostly by sequential scans ==', '== missing indexes ==', '== redundant indexes ==', '== settings for 8.0 GiB memory']) assert.ok(text.includes(heading), heading);
  assert.match(text, /absent: the pg_stat_statements extension is not created/);
  assert.match(text, /unused indexes \(statistics cover/);
});

test('bad flags are PGP_VALIDATION errors naming the flag', async (t) => {
  for (const [args, flag] of [[['--memory', 'lots'], '--memory'], [['--cores', '0'], '--cores'], [['--disk', 'floppy'], '--disk'], [['--top', 'x'], '--top']] as const) {
    await assert.rejects(run(t, [...args]), (e) => isPgpressError(e) && e.code === 'PGP_VALIDATION' && e.message.startsWith(flag));
  }
});
