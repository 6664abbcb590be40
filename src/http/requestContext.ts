// Per-request context for the Store: the consistency session (read-your-writes), the actor and
// the request's deadline (what is left of its budget bounds each database call).
import type { FastifyInstance, FastifyRequest, onSendHookHandler } from 'fastify';
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
  const sendToken: onSendHookHandler = (req, reply, payload, done) => {
    const lsn = req.consistency?.lastCommitLsn;
    if (lsn !== undefined) void reply.header(LSN_HEADER, lsn);
    done(null, payload);
  };
  // Only routes that may write get the hook: a GET or HEAD reads (it commits nothing, so it has no
  // token to return), and an onSend hook on every route costs each cached read its hook run.
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (methods.every((m) => m === 'GET' || m === 'HEAD')) return;
    const own = route.onSend === undefined ? [] : Array.isArray(route.onSend) ? route.onSend : [route.onSend];
    route.onSend = [...own, sendToken];
  });
}

/** Context for a read on behalf of req. */
export function readCtx(req: FastifyRequest): ReadContext {
  // The actor (when a token was sent) reaches row-level security: its own drafts, or all as an editor.
  return req.actor === undefined
    ? { session: req.consistency, deadline: req.deadline }
    : { session: req.consistency, deadline: req.deadline, actorId: req.actor.userId, role: req.actor.role };
}

/** Context for a write by req's authenticated actor. */
export function writeCtx(req: FastifyRequest): WriteContext & { actorId: number } {
  const actor = actorOf(req);
  return { session: req.consistency, deadline: req.deadline, actorId: actor.userId, role: actor.role };
}
