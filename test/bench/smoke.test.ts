// Every benchmark scenario still runs end to end, at a tiny scale and with short rounds, and its
// ratios clear a sanity floor: a scenario that rots (a query gains a parameter, a route changes, a
// variant stops doing its work or starts failing) fails here rather than on the next `npm run bench`.
// The floors are far below the figures `npm run bench` reports (docs/benchmarks.md), so that they hold on a
// loaded machine at this scale, and far above what a broken comparison gives (~0).
import { test } from 'node:test';
import { shippedScenarios } from '../../src/bench/registry.ts';
import { scenarios } from '../../bench/scenarios.ts';
import { smokeRun } from './smokeCases.ts';

// One run per scenario of the checkout (the shipped ones: smokeShipped*.test.ts and, from a
// compiled build, smokeCompiled*.test.ts; failover, two Patroni clusters, smokeFailover.test.ts:
// with it this file ran past the runner's 300 s per file at load average 13); floors and tiny scales
// in smokeCases.ts. Each run within the runner's per-test timeout; a failure names its scenario.
for (const name of Object.keys(scenarios).filter((n) => !(n in shippedScenarios) && n !== 'failover')) {
  test(`\`npm run bench -- ${name}\` runs at a tiny scale and each of its ratios clears its sanity floor`, (t) => smokeRun(name, t));
}
