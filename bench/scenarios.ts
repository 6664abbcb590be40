// Every benchmark scenario of a checkout, by name: the shipped ones (src/bench/registry.ts, which
// documents the interface) and those that need the checkout. An entry is a Scenario, or a
// figures-only function (() => Promise<figures>) that the runner wraps.
import { shippedScenarios } from '../src/bench/registry.ts';
import type { ScenarioEntry } from '../src/bench/scenario.ts';
import { api } from './api.ts';
import { clusterBench } from './cluster.ts';
import { recovery } from './recovery.ts';
import { schema } from './schema.ts';
import { searchScenario } from '../src/bench/scenarios/search.ts';

export const scenarios: Record<string, ScenarioEntry> = {
  ...shippedScenarios,
  api,
  schema,
  cluster: clusterBench,
  metaFilters: async () => (await import('./metaFilters.ts')).metaFilters(),
  cache: async () => (await import('./cache.ts')).cache(),
  tune: async () => (await import('./tune.ts')).tuneBench(),
  replicas: { name: 'replicas', description: 'Article reads with 0, 1 and 2 streaming replicas; replica read share and stale reads under 10 % writes with sessions.', run: async (ctx) => (await import('./replicas.ts')).replicas.run(ctx) },
  failover: async () => (await import('./failover.ts')).failoverBench(),
  search: searchScenario,
  recovery,
  roundtrips: async () => (await import('./roundtrips.ts')).roundtrips(),
};
