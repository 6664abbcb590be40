// The change feed's cursor belongs to one history (system identifier and timeline of the primary
// it was read on): a stored cursor from another history (a failover promoted a new timeline while
// no instance ran) drops everything once, as an expired one does; one from this history, or one
// stored by an older version without a history, is replayed as before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startChangeFeed } from '../../src/cache/changeFeed.ts';
import type { ChangeCursor, ChangeCursorStore } from '../../src/cache/changeFeedCursor.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { testDatabase } from '../harness/testDatabase.ts';

const db = await testDatabase();
const log = createLogger('silent');

/** This server's history as the feed names it. */
async function historyNow(): Promise<string> {
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  try {
    const r = await c.query<{ h: string }>(
      "SELECT (SELECT system_identifier::text FROM pg_control_system()) || ':' || ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int AS h",
    );
    return r.rows[0]!.h;
  } finally {
    await c.end();
  }
}

/** A cursor store holding one cursor in memory, recording what is saved. */
function memoryStore(initial: ChangeCursor): ChangeCursorStore & { saved: ChangeCursor[] } {
  const saved: ChangeCursor[] = [];
  return {
    saved,
    load: async () => saved[saved.length - 1] ?? initial,
    save: async (c) => void saved.push(c),
  };
}

async function boot(stored: ChangeCursor): Promise<{ gaps: number; saved: ChangeCursor[]; cursor: string | undefined }> {
  const store = memoryStore(stored);
  let gaps = 0;
  const feed = await startChangeFeed({ url: db.url, log, onTags: () => undefined, onGap: () => void gaps++, cursorStore: store, pollMs: 60_000, pruneEveryMs: 0 });
  try {
    assert.ok(feed.connected, 'the feed connected');
    return { gaps, saved: store.saved, cursor: feed.cursor };
  } finally {
    await feed.stop();
  }
}

test('a stored cursor from another timeline drops everything once and restarts from now on this history', async () => {
  const history = await historyNow();
  const [system, timeline] = history.split(':');
  const r = await boot({ xmin: '1', at: new Date(), history: `${system}:${Number(timeline) + 1}` });
  assert.equal(r.gaps, 1, 'onGap once');
  assert.notEqual(r.cursor, '1', 'the cursor restarts from now');
  assert.equal(r.saved[0]?.history, history, 'the new cursor carries this history');
});

test('a stored cursor from this history, or without one (stored by an older version), is replayed', async () => {
  const history = await historyNow();
  const same = await boot({ xmin: '1', at: new Date(), history });
  assert.equal(same.gaps, 0);
  const older = await boot({ xmin: '1', at: new Date() });
  assert.equal(older.gaps, 0);
  // Replayed from xmin 1: the first read then moves the cursor to now, with this history.
  for (const r of [same, older]) assert.ok(r.saved.every((c) => c.history === history), JSON.stringify(r.saved));
});
