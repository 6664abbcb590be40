// /readyz's health snapshot: one check at a time, reused for a while, however many probes ask.
import type { Readiness } from '../store.ts';

/** A check that does not answer in this long reports "not ready" rather than holding probes. */
const CHECK_TIMEOUT_MS = 3_000;

/**
 * Serves check() from a snapshot at most maxAgeMs old; callers that arrive while a check runs
 * share it. Without this a crowd of probes (load balancers, kubelets, a scanner) is a crowd of
 * database round trips.
 */
export function readinessSnapshot(check: () => Promise<Readiness>, maxAgeMs: number): () => Promise<Readiness> {
  let last: { at: number; value: Readiness } | undefined;
  let running: Promise<Readiness> | undefined;
  const refresh = async (): Promise<Readiness> => {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<Readiness>((ok) => {
      timer = setTimeout(() => ok({ ready: false, database: { reachable: false, migrations: null, error: `no answer in ${CHECK_TIMEOUT_MS} ms` }, targets: [] }), CHECK_TIMEOUT_MS);
    });
    try {
      const value = await Promise.race([check(), timedOut]);
      last = { at: performance.now(), value };
      return value;
    } finally {
      clearTimeout(timer);
      running = undefined;
    }
  };
  return () => {
    if (last && performance.now() - last.at < maxAgeMs) return Promise.resolve(last.value);
    return (running ??= refresh());
  };
}
