// The benchmark scenarios, by name.
import { api } from './api.ts';
import { clusterBench } from './cluster.ts';
import { schema } from './schema.ts';
import { soak } from './soak.ts';

/** A scenario runs its variants interleaved and returns the figures for its JSON line. */
export type Scenario = () => Promise<Record<string, number>>;

export const scenarios: Record<string, Scenario> = {
  api,
  schema,
  cluster: clusterBench,
  soak,
  metaFilters: async () => (await import('./metaFilters.ts')).metaFilters(),
  cache: async () => (await import('./cache.ts')).cache(),
  tune: async () => (await import('./tune.ts')).tuneBench(),
};
