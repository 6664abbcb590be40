// The benchmark scenarios, by name.
import { clusterBench } from './cluster.ts';
import { pointRead } from './pointRead.ts';

/** A scenario runs its variants interleaved and returns the figures for its JSON line. */
export type Scenario = () => Promise<Record<string, number>>;

export const scenarios: Record<string, Scenario> = {
  'point-read': pointRead,
  cluster: clusterBench,
};
