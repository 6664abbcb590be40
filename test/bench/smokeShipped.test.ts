// Every scenario `pgpress bench` ships runs end to end at a tiny scale and its ratios clear their
// sanity floors (smokeCases.ts); the checkout's other scenarios are smoke.test.ts's.
import { test } from 'node:test';
import { shippedScenarios } from '../../src/bench/registry.ts';
import { smokeRun } from './smokeCases.ts';

for (const name of Object.keys(shippedScenarios)) {
  test(`\`npm run bench -- ${name}\` runs at a tiny scale and each of its ratios clears its sanity floor`, (t) => smokeRun(name, t));
}
