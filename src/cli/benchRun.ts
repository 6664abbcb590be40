// What `pgpress bench` does when it runs (src/cli/bench.ts registers the command): picks the
// scenarios, finds the scratch databases' server, runs them and writes the report.
import { existsSync } from 'node:fs';
import type { Settings } from '../config/settings.ts';
import { setBenchAdminUrl } from '../bench/benchDatabase.ts';
import { abortOnSignalsAndParentExit, onAbort, releaseParentChannel } from '../bench/lifecycle.ts';
import { listScenarios, pickScenarios } from '../bench/pick.ts';
import { shippedScenarios } from '../bench/registry.ts';
import { runScenarios } from '../bench/runner.ts';
import type { ScenarioEntry } from '../bench/scenario.ts';
import { databaseUrlFor } from './databaseUrl.ts';

/** The checkout's registry when running from the sources of a checkout, else the shipped one. */
async function registry(): Promise<Record<string, ScenarioEntry>> {
  const checkout = new URL('../../bench/scenarios.ts', import.meta.url);
  if (import.meta.url.endsWith('.ts') && existsSync(checkout)) return ((await import(checkout.href)) as { scenarios: Record<string, ScenarioEntry> }).scenarios;
  return shippedScenarios;
}

/** `pgpress bench`'s action: loaded only when the command runs (src/cli/bench.ts). */
export async function runBench(names: string[], o: { list?: boolean; out: string; png: boolean }, settings: () => Settings): Promise<void> {
  const reg = await registry();
  if (o.list) {
    for (const line of listScenarios(reg)) console.log(line);
    return;
  }
  const picked = pickScenarios(names, reg);
  abortOnSignalsAndParentExit();
  const s = settings();
  const fromEnv = process.env.BENCH_DATABASE_URL;
  const db = fromEnv ? { url: fromEnv, source: 'BENCH_DATABASE_URL', release: async () => undefined } : await databaseUrlFor(s);
  const unregister = onAbort(db.release);
  try {
    console.error(`pgpress bench: scratch databases on ${db.source}`);
    setBenchAdminUrl(db.url);
    await runScenarios(picked, { outDir: o.out, png: o.png });
  } finally {
    unregister();
    await db.release();
    releaseParentChannel();
  }
}
