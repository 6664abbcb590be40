// `npm run bench -- [scenario ...]`: the checkout's alias of `pgpress bench` (every scenario of
// bench/scenarios.ts, on BENCH_DATABASE_URL or TEST_DATABASE_URL). Each scenario prints ratios
// measured in the same run against a baseline and ends with one JSON line; the run writes
// bench-results/<time>/ (BENCH_OUT: another folder, or off) with report.html and report.png
// (BENCH_PNG=false: no PNG).
import { isPgpressError } from '../src/errors/index.ts';
import { abortOnSignalsAndParentExit } from '../src/bench/lifecycle.ts';
import { pickScenarios } from '../src/bench/pick.ts';
import { runScenarios } from '../src/bench/runner.ts';
import { scenarios } from './scenarios.ts';

let picked;
try {
  picked = pickScenarios(process.argv.slice(2), scenarios);
} catch (e) {
  console.error(isPgpressError(e) ? e.message : String(e));
  process.exit(2);
}
abortOnSignalsAndParentExit();
const out = process.env.BENCH_OUT;
await runScenarios(picked, { outDir: out === 'off' ? false : out, png: process.env.BENCH_PNG !== 'false' });
// An IPC channel from a parent (the test suite's smoke run) would keep this process alive.
process.exit(0);
