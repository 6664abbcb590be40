// The end-to-end budget of a request: its database calls get what is left of it (requestContext),
// and a request still unanswered shortly after it is answered 504 here, whatever it waits on.
import type { FastifyInstance } from 'fastify';
import { PgpressError } from '../errors/index.ts';

/** After the budget, how long the request's own (more specific) failure may take to arrive. */
const BACKSTOP_GRACE_MS = 250;

/** Answers 504 PGP_DEADLINE_EXCEEDED for a request still unanswered budgetMs + a grace after it began. */
export function installRequestBudget(app: FastifyInstance, budgetMs: number): void {
  const timers = new WeakMap<object, NodeJS.Timeout>();
  app.addHook('onRequest', (req, reply, done) => {
    const timer = setTimeout(() => {
      if (reply.sent) return;
      reply.send(new PgpressError('PGP_DEADLINE_EXCEEDED', `The request did not finish within its ${budgetMs} ms budget.`));
    }, budgetMs + BACKSTOP_GRACE_MS);
    timer.unref();
    timers.set(req, timer);
    done();
  });
  app.addHook('onResponse', (req, _reply, done) => {
    clearTimeout(timers.get(req));
    done();
  });
}
