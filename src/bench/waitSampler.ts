// Where a database's backends spend a window, by sampling pg_stat_activity: on the CPU (active, no
// wait event), waiting for the client (ClientRead: a round trip, or the client's own work), the
// commit's WAL flush (IO WALSync/WALWrite: this backend flushes; LWLock WALWrite: it waits for
// another backend's flush — group commit), or something else (its wait event). Shares of samples,
// so a state's share is its share of the backends' time. Only backends seen busy (not idle) at least
// once count: a pool's connections that the window did not use would add idle samples. Samples every
// everyMs on a connection of its own (give it another database, so that its work is not the measured one's).
import type pg from 'pg';

/** Share of backend samples per state (sums to 1; empty without samples). */
export type WaitShares = Record<string, number>;

function stateOf(state: string | null, type: string | null, event: string | null): string {
  if (event === 'ClientRead') return 'client';
  if (type === 'IO' && (event === 'WALSync' || event === 'WALWrite')) return 'flush';
  if (type === 'LWLock' && event === 'WALWrite') return 'flush_queue';
  if (type === null && state === 'active') return 'cpu';
  return `${type ?? state ?? '?'}:${event ?? ''}`;
}

/** Samples database's backends until the returned stop() is awaited; stop() gives the shares. */
export function sampleWaits(admin: pg.Pool, database: string, everyMs = 5): () => Promise<WaitShares> {
  // pid → state → samples
  const counts = new Map<number, Map<string, number>>();
  let stopped = false;
  const loop = (async (): Promise<void> => {
    const c = await admin.connect();
    try {
      while (!stopped) {
        const { rows } = await c.query<{ pid: number; state: string | null; type: string | null; event: string | null }>(
          'SELECT pid, state, wait_event_type AS type, wait_event AS event FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND backend_type = $2',
          [database, 'client backend'],
        );
        for (const r of rows) {
          const k = r.state === 'idle' ? 'idle' : stateOf(r.state, r.type, r.event);
          let m = counts.get(r.pid);
          if (!m) counts.set(r.pid, (m = new Map()));
          m.set(k, (m.get(k) ?? 0) + 1);
        }
        await new Promise((r) => setTimeout(r, everyMs));
      }
    } finally {
      c.release();
    }
  })();
  return async () => {
    stopped = true;
    await loop;
    const sum = new Map<string, number>();
    for (const m of counts.values()) {
      if (![...m.keys()].some((k) => k !== 'idle')) continue; // never busy: not this window's
      // Idle between statements outside a transaction: waiting for the client as well.
      for (const [k, n] of m) sum.set(k === 'idle' ? 'client' : k, (sum.get(k === 'idle' ? 'client' : k) ?? 0) + n);
    }
    const total = [...sum.values()].reduce((a, b) => a + b, 0);
    return Object.fromEntries([...sum].map(([k, n]) => [k, total > 0 ? n / total : 0]));
  };
}
