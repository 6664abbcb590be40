// Idempotent HTTP writes (the Idempotency-Key header, Stripe's scheme): the key is claimed and the
// answer stored in the write's own transaction (store WriteHooks), so a committed write and its
// key are atomic. A retry with the same key and request gets the stored answer (same status and
// body, `Idempotent-Replayed: true`), whether the first answer was lost, was 503
// PGP_OUTCOME_UNKNOWN, or never left; a different request under the key is 422. A duplicate sent
// while the first still runs waits for it (the key's primary key), then gets its answer. A failed
// write stores nothing (it rolled back): its retry runs again. Without the header: unchanged.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Cluster, Queryable } from '../../db/cluster.ts';
import { noteCommit } from '../../db/session.ts';
import { PgpressError } from '../../errors/index.ts';
import type { WriteHooks } from '../../store.ts';
import { idempotencyKeyOf, keyScope, REPLAYED_HEADER, requestFingerprint } from './key.ts';
import { claimKey, completeKey, storedAnswer } from './queries.ts';

/** IDEMPOTENCY_KEY_TTL_HOURS, and the fingerprints' HMAC secret (shared by every instance). */
export interface IdempotencyOptions {
  ttlHours: number;
  secret: Buffer;
}

/** How a route's value becomes its answer, and what of it is stored. */
export interface AnswerShape<T> {
  /** The response body (default: the value itself). */
  body?: (value: T) => unknown;
  /** Stored instead of the body when the body holds what the table must not (a user's email)… */
  stored?: (value: T) => unknown;
  /** …and the answer rebuilt from it on a replay. */
  replay?: (stored: unknown) => Promise<unknown>;
}

/** The claim found the key committed by an earlier request: roll back and replay (never reaches a client). */
class KeyTaken extends PgpressError {
  constructor() {
    super('PGP_IDEMPOTENCY_CONFLICT', 'The idempotency key is taken by a committed request.');
  }
}

interface StoredRow {
  fingerprint: Buffer;
  status: number;
  body: string;
  lsn: string;
}

/** Idempotent writes over the store's primary. */
export class Idempotency {
  constructor(
    private readonly cluster: Pick<Cluster, 'query'>,
    private readonly opts: IdempotencyOptions,
  ) {}

  /**
   * Answers req with `status` and what `run` returned. run gets the hooks to pass to the store as
   * `inTx` (undefined without a key: the write's path is then exactly as without this).
   */
  async write<T>(req: FastifyRequest, reply: FastifyReply, status: number, run: (inTx: WriteHooks | undefined) => Promise<T>, shape: AnswerShape<T> = {}): Promise<FastifyReply> {
    const bodyOf = shape.body ?? ((v: T): unknown => v);
    const key = idempotencyKeyOf(req);
    if (key === undefined) return reply.status(status).send(bodyOf(await run(undefined)));
    const scope = keyScope(req);
    const fingerprint = requestFingerprint(this.opts.secret, req);
    const hooks: WriteHooks = {
      before: async (q: Queryable) => {
        const claimed = await q.query(claimKey, [scope, key, fingerprint, this.opts.ttlHours]);
        if (claimed.rowCount === 0) throw new KeyTaken();
      },
      after: async (q: Queryable, value: unknown) => {
        const stored = (shape.stored ?? bodyOf)(value as T);
        await q.query(completeKey, [scope, key, status, JSON.stringify(stored)]);
      },
    };
    try {
      return reply.status(status).send(bodyOf(await run(hooks)));
    } catch (e) {
      if (!(e instanceof KeyTaken)) throw e;
    }
    return this.replay(req, reply, scope, key, fingerprint, shape);
  }

  private async replay<T>(req: FastifyRequest, reply: FastifyReply, scope: string, key: string, fingerprint: Buffer, shape: AnswerShape<T>): Promise<FastifyReply> {
    const remaining = Math.max(1, req.deadline - Date.now());
    const row = (await this.cluster.query<StoredRow>(storedAnswer, [scope, key], { deadlineMs: remaining })).rows[0];
    if (row === undefined) {
      throw new PgpressError('PGP_IDEMPOTENCY_CONFLICT', 'The Idempotency-Key was taken, but its answer was purged a moment later; send the same request again.');
    }
    if (!row.fingerprint.equals(fingerprint)) {
      throw new PgpressError('PGP_IDEMPOTENCY_MISMATCH', `The Idempotency-Key was first used with a different request (method, path or body); a new request needs a new key.`);
    }
    // Reads after the replay see the write it stands for (x-pgpress-lsn), as after the original.
    noteCommit(req.consistency, row.lsn);
    void reply.header(REPLAYED_HEADER, 'true').status(row.status);
    if (shape.replay) return reply.send(await shape.replay(JSON.parse(row.body) as unknown));
    // The stored text as it was sent the first time, byte for byte.
    return reply.type('application/json; charset=utf-8').send(row.body);
  }
}
