// Bearer-token authentication: reads are public, writes name an actor with a role.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PgpressError } from '../errors/index.ts';
import type { Actor, Role, TokenService } from '../security/tokens.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified caller, set by requireActor. */
    actor?: Actor;
  }
}

/** A preHandler that demands a valid bearer token (and, optionally, one of some roles). */
export function requireActor(tokens: TokenService, roles?: readonly Role[]) {
  return async function authenticate(req: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const header = req.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer ([A-Za-z0-9_\-.]{10,4096})$/.exec(header) : null;
    if (!match) throw new PgpressError('PGP_UNAUTHORIZED', 'This request needs an `Authorization: Bearer <token>` header (mint one with `pgpress token`).');
    const actor = tokens.verify(match[1]!);
    if (roles && !roles.includes(actor.role)) {
      throw new PgpressError('PGP_FORBIDDEN', `This needs the role ${roles.join(' or ')}; the token has ${actor.role}.`);
    }
    req.actor = actor;
  };
}

/** A preHandler for public routes: a token, when sent, must be valid and then names the actor. */
export function optionalActor(tokens: TokenService) {
  const strict = requireActor(tokens);
  // Callback style: most public reads carry no token, and skip a promise that way.
  return function maybeAuthenticate(req: FastifyRequest, reply: FastifyReply, done: (e?: Error) => void): void {
    if (req.headers.authorization === undefined) return done();
    strict(req, reply).then(() => done(), done);
  };
}

/** True when the actor may see or change what ownerId owns (drafts, private fields). */
export function mayChange(actor: Actor | undefined, ownerId: number): boolean {
  return actor !== undefined && (actor.role !== 'author' || actor.userId === ownerId);
}

/** The actor of a request that passed requireActor. */
export function actorOf(req: FastifyRequest): Actor {
  if (!req.actor) throw new PgpressError('PGP_INTERNAL', 'Route reached without authentication.');
  return req.actor;
}

/** Authors may change only what they own; editors and admins may change anything. */
export function assertMayChange(actor: Actor, ownerId: number): void {
  if (!mayChange(actor, ownerId)) {
    throw new PgpressError('PGP_FORBIDDEN', 'Authors may change only their own content.');
  }
}
