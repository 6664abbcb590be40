// Every scenario `pgpress bench` ships and runs by default runs end to end at a tiny scale and its
// ratios clear their sanity floors (smokeCases.ts): the first three here, the rest in
// smokeShippedRest.test.ts (two files, each within the runner's 300 s per file). The shipped ones
// that run only when named (replicas, cache, tune, …) run from a compiled build in
// smokeCompiled*.test.ts; the checkout's other scenarios are smoke.test.ts's.
import { test } from 'node:test';
import { shippedDefaults, smokeRun } from './smokeCases.ts';

for (const name of shippedDefaults().slice(0, 3)) {
  test(`\`npm run bench -- ${name}\` runs at a tiny scale and each of its ratios clears its sanity floor`, (t) => smokeRun(name, t));
}
