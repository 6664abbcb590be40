// The end-to-end budget of a request: its database calls get what is left of it (requestContext),
// and a request still unanswered shortly after it is answered 504 here, whatever it waits on.
import type { ServerResponse } from 'node:http';
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
  const open = new Map<ServerResponse, { reply: FastifyReply; due: number }>();
  let sweeper: NodeJS.Timeout | undefined;
  const sweep = (): void => {
    const now = Date.now();
    for (const [res, r] of open) {
      if (r.due > now) break;
      open.delete(res);
      if (!r.reply.sent) r.reply.send(new PgpressError('PGP_DEADLINE_EXCEEDED', `The request did not finish within its ${budgetMs} ms budget.`));
    }
    if (open.size === 0) {
      clearInterval(sweeper);
      sweeper = undefined;
    }
  };
  // A request leaves by its response's 'close', which Node emits once per response, sent or
  // abandoned by its client: one shared listener instead of onResponse and onRequestAbort hooks
  // (for the latter Fastify gives every request a listener and a closure).
  const leave = function (this: ServerResponse): void {
    open.delete(this);
  };
  app.addHook('onRequest', (_req, reply, done) => {
    open.set(reply.raw, { reply, due: Date.now() + budgetMs + BACKSTOP_GRACE_MS });
    reply.raw.on('close', leave);
    if (sweeper === undefined) {
      sweeper = setInterval(sweep, SWEEP_MS);
      sweeper.unref();
    }
    done();
  });
  app.addHook('onClose', (_app, done) => {
    clearInterval(sweeper);
    sweeper = undefined;
    open.clear();
    done();
  });
}
