// Replica-backed tests assert what a replica in rotation does; on a loaded machine a first probe
// may miss its timeout and take the replica out until it has stayed healthy for rejoinAfterMs.
import type { Store } from '../../src/store.ts';

/** Waits (up to timeoutMs) until the store's replica `name` serves reads. */
export async function inRotation(store: Store, name = 'replica1', timeoutMs = 20_000): Promise<void> {
  for (const until = Date.now() + timeoutMs; ;) {
    const target = (await store.readiness()).targets.find((t) => t.name === name);
    if (target?.inRotation) return;
    if (Date.now() > until) throw new Error(`${name} not in rotation after ${timeoutMs} ms: ${JSON.stringify(target)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
