// Named SQL of the idempotency keys (table: migration 0140).
import { sql } from '../../db/sql.ts';

/**
 * Claims (scope, key) in the write's transaction, before the write. A live row of a committed
 * request: no row returned (the caller replays it). A row of a request still in flight: the INSERT
 * waits on the primary key until that transaction ends, which is what keeps concurrent duplicates
 * from both writing. An expired row not purged yet is taken over.
 */
export const claimKey = sql(
  'idempotency.claim',
  `INSERT INTO pgpress_idempotency_keys AS k (scope, key, fingerprint) VALUES ($1, $2, $3)
   ON CONFLICT (scope, key) DO UPDATE SET fingerprint = excluded.fingerprint, status = NULL, body = NULL, created_at = now()
     WHERE k.created_at < now() - make_interval(hours => $4::int)
   RETURNING 1 AS claimed`,
);

/** Stores the answer, in the write's transaction after the write: it commits with it or not at all. */
export const completeKey = sql('idempotency.complete', 'UPDATE pgpress_idempotency_keys SET status = $3, body = $4::json WHERE scope = $1 AND key = $2');

/**
 * The stored answer (the claim saw the row live, so no age filter) and the primary's WAL position
 * now, at or after that write's commit: the replay's read-your-writes token.
 */
export const storedAnswer = sql(
  'idempotency.stored',
  `SELECT fingerprint, status, body::text AS body, pg_current_wal_insert_lsn()::text AS lsn
     FROM pgpress_idempotency_keys WHERE scope = $1 AND key = $2`,
);
