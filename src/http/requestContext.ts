// Per-request context for the Store: the consistency session (read-your-writes), the actor and
// the request's deadline (what is left of its budget bounds each database call).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isLsn } from '../db/lsn.ts';
import { newSession, type ConsistencySession } from '../db/session.ts';
import type { ReadContext, WriteContext } from '../store.ts';
import { actorOf } from './auth.ts';

/** Read-your-writes token: sent on every response after a write, accepted back on any request. */
export const LSN_HEADER = 'x-pgpress-lsn';

declare module 'fastify' {
  interface FastifyRequest {
    /** This request's consistency session, started from the x-pgpress-lsn header. */
    consistency: ConsistencySession;
    /** When this request's budget runs out (Date.now() scale). */
    deadline: number;
  }
}

/**
 * Starts a session per request from its header and the request's budget (budgetMs from now), and
 * returns the commit LSN of any write.
 */
export function installRequestContext(app: FastifyInstance, budgetMs: number): void {
  app.decorateRequest('consistency', null as unknown as ConsistencySession);
  app.decorateRequest('deadline', 0);
  app.addHook('onRequest', (req, _reply, done) => {
    req.deadline = Date.now() + budgetMs;
    const h = req.headers[LSN_HEADER];
    req.consistency = newSession(typeof h === 'string' && isLsn(h) ? h : undefined);
    done();
  });
  app.addHook('onSend', (req, reply, payload, done) => {
    const lsn = req.consistency?.lastCommitLsn;
    if (lsn !== undefined) void reply.header(LSN_HEADER, lsn);
    done(null, payload);
  });
}

/** Context for a read on behalf of req. */
export function readCtx(req: FastifyRequest): ReadContext {
  return { session: req.consistency, deadline: req.deadline };
}

/** Context for a write by req's authenticated actor. */
export function writeCtx(req: FastifyRequest): WriteContext & { actorId: number } {
  return { session: req.consistency, deadline: req.deadline, actorId: actorOf(req).userId };
}
