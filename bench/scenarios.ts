// Every benchmark scenario of a checkout, by name: the shipped ones (src/bench/registry.ts, which
// documents the interface) and those that need the checkout (the test harness, bench-only
// servers). An entry is a Scenario, or a figures-only function (() => Promise<figures>) that the
// runner wraps.
import { shippedScenarios } from '../src/bench/registry.ts';
import type { ScenarioEntry } from '../src/bench/scenario.ts';
import { api } from './api.ts';
import { clusterBench } from './cluster.ts';
import { recovery } from './recovery.ts';
import { schema } from './schema.ts';

export const scenarios: Record<string, ScenarioEntry> = {
  ...shippedScenarios,
  api,
  schema,
  cluster: clusterBench,
  metaFilters: async () => (await import('./metaFilters.ts')).metaFilters(),
  failover: {
    name: 'failover',
    description: 'Writes through a Patroni failover: the write gap, acknowledged writes lost (synchronous and asynchronous), failed-but-committed.',
    onlyWhenNamed: 'starts a Patroni cluster (the test harness)',
    run: async () => ({ figures: await (await import('./failover.ts')).failoverBench() }),
  },
  recovery,
};
