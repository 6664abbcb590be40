// `pgpress bench [scenario…]`: runs benchmark scenarios against a scratch database it creates and
// drops on BENCH_DATABASE_URL, DATABASE_URL or the embedded server, and writes
// bench-results/<time>/ (one JSON per scenario, report.html, report.png). In a checkout it offers
// the checkout's scenarios too (bench/scenarios.ts); the installed package offers the shipped ones.
import type { Command } from 'commander';
import type { Settings } from '../config/settings.ts';

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
      await (await import('./benchRun.ts')).runBench(names, o, settings);
    });
}
