// The /metrics body: the process registry and a served app's database collectors, in Prometheus
// text format, plus the bearer-token check that may guard it.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Registry } from 'prom-client';
import { registry } from './metrics.ts';

/** The Prometheus text exposition content type. */
export const METRICS_CONTENT_TYPE = registry.contentType;

/** Every family of the process registry followed by those of extra (names never overlap). */
export async function renderMetrics(extra: readonly Registry[] = []): Promise<string> {
  const parts = await Promise.all([registry, ...extra].map((r) => r.metrics()));
  return parts.map((p) => (p.endsWith('\n') || p === '' ? p : `${p}\n`)).join('');
}

/** True when an Authorization header carries exactly `Bearer <token>` (compared in constant time). */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const given = /^Bearer (.+)$/i.exec(header ?? '')?.[1];
  if (given === undefined) return false;
  // Digests of equal length: timingSafeEqual needs them, and the token's length does not leak.
  const digest = (s: string): Buffer => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(token));
}
