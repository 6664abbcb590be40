// The end-to-end budget of a request: its database calls get what is left of it (requestContext),
// and a request still unanswered shortly after it is answered 504 here, whatever it waits on.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { PgpressError } from '../errors/index.ts';

/** After the budget, how long the request's own (more specific) failure may take to arrive. */
const BACKSTOP_GRACE_MS = 250;
/** How often open requests are checked: a late request is answered at most this much after its backstop. */
const SWEEP_MS = 50;

/** Answers 504 PGP_DEADLINE_EXCEEDED for a request still unanswered budgetMs + a grace after it began. */
export function installRequestBudget(app: FastifyInstance, budgetMs: number): void {
  // Why one sweep and not a timer per request: arming and clearing a timer costs ~3 µs a request, a
  // Map entry far less. Every request has the same budget, so the Map (insertion order) is also in
  // deadline order: a sweep stops at the first request not yet due.
  const open = new Map<object, { reply: FastifyReply; due: number }>();
  let sweeper: NodeJS.Timeout | undefined;
  const sweep = (): void => {
    const now = Date.now();
    for (const [req, r] of open) {
      if (r.due > now) break;
      open.delete(req);
      if (!r.reply.sent) r.reply.send(new PgpressError('PGP_DEADLINE_EXCEEDED', `The request did not finish within its ${budgetMs} ms budget.`));
    }
    if (open.size === 0) {
      clearInterval(sweeper);
      sweeper = undefined;
    }
  };
  app.addHook('onRequest', (req, reply, done) => {
    open.set(req, { reply, due: Date.now() + budgetMs + BACKSTOP_GRACE_MS });
    if (sweeper === undefined) {
      sweeper = setInterval(sweep, SWEEP_MS);
      sweeper.unref();
    }
    done();
  });
  const leave = (req: object, done: () => void): void => {
    open.delete(req);
    done();
  };
  app.addHook('onResponse', (req, _reply, done) => leave(req, done));
  app.addHook('onRequestAbort', (req, done) => leave(req, done));
  app.addHook('onClose', (_app, done) => {
    clearInterval(sweeper);
    sweeper = undefined;
    open.clear();
    done();
  });
}
