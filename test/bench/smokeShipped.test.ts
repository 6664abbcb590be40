// Every scenario `pgpress bench` ships and runs by default runs end to end at a tiny scale and its
// ratios clear their sanity floors (smokeCases.ts). The shipped ones that run only when named
// (replicas, cache, tune, …) run from a compiled build in smokeCompiled*.test.ts; the checkout's
// other scenarios are smoke.test.ts's.
import { test } from 'node:test';
import { shippedScenarios } from '../../src/bench/registry.ts';
import { smokeRun } from './smokeCases.ts';

for (const [name, s] of Object.entries(shippedScenarios).filter(([, s]) => s.onlyWhenNamed === undefined)) {
  test(`\`npm run bench -- ${name}\` runs at a tiny scale and each of its ratios clears its sanity floor`, (t) => smokeRun(s.name, t));
}
