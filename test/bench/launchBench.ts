// A stand-in for a test file that runs benchmarks (killedRun.test.ts kills it): starts
// `bench/run.ts <scenarios…>` through startBench, prints the run's pid and relays its output.
import { startBench } from './benchProcess.ts';

const run = startBench(process.argv.slice(2), { BENCH_SECONDS: '0.25', BENCH_ROUNDS: '2', BENCH_OUT: 'off' }, { echo: true });
console.log(`bench pid ${run.pid}`);
const timer = setInterval(() => undefined, 1_000); // stay alive until the run ends
const { code } = await run.done;
clearInterval(timer);
process.exitCode = code ?? 1;
