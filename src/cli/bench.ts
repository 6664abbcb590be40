// `pgpress bench [scenario…]`: runs benchmark scenarios against a scratch database it creates and
// drops on BENCH_DATABASE_URL, DATABASE_URL or the embedded server, and writes
// bench-results/<time>/ (one JSON per scenario, report.html, report.png). In a checkout it offers
// the checkout's scenarios too (bench/scenarios.ts); the installed package offers the shipped ones.
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
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

/** Adds the bench command to the program. */
export function benchCommand(program: Command, settings: () => Settings): void {
  program
    .command('bench')
    .description('run benchmark scenarios (when none is named, those marked default in --list) and write bench-results/<time>/ with an HTML report')
    .argument('[scenario...]', 'scenarios to run, in order (see --list)')
    .option('--list', 'list the scenarios and exit')
    .option('--out <dir>', 'parent folder of the run folder', 'bench-results')
    .option('--no-png', 'do not render report.png with Chromium')
    .action(async (names: string[], o: { list?: boolean; out: string; png: boolean }) => {
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
    });
}
