// Clusters for a test file: each with its own metrics registry, all closed after the file.
import { after } from 'node:test';
import { Registry } from 'prom-client';
import { Cluster, type ClusterOptions } from '../../src/db/cluster.ts';
import { isPgpressError } from '../../src/errors/index.ts';
import { createDbMetrics } from '../../src/observability/metrics.ts';

/** Returns a factory of Clusters on url; every Cluster it made is closed after the file. */
export function clusterFactory(url: string): (o?: Partial<ClusterOptions>) => Cluster {
  const open: Cluster[] = [];
  after(async () => {
    for (const c of open) await c.close();
  });
  return (o = {}) => {
    const c = new Cluster({ url, metrics: createDbMetrics(new Registry()), ...o });
    open.push(c);
    return c;
  };
}

/** The catalogue code of an error, or a description that makes an assertion fail legibly. */
export const code = (e: unknown): string => (isPgpressError(e) ? e.code : `not a PgpressError: ${String(e)}`);
