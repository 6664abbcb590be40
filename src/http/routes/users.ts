// User routes: sign up, read (email only to its owner and admins), update one's profile.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { NewUser, User, UserProfilePatch } from '../../content/users/repository.ts';
import { PgpressError } from '../../errors/index.ts';
import type { Actor } from '../../security/tokens.ts';
import { actorOf, optionalActor, requireActor } from '../auth.ts';
import { errorBodySchema } from '../errors.ts';
import type { RouteDeps } from './deps.ts';
import { idParams, user, userBody, userPatchBody } from './schemas.ts';
import { readCtx, writeCtx } from '../requestContext.ts';
import { idempotencyHeaders } from '../idempotency/key.ts';
import type { AnswerShape } from '../idempotency/idempotentWrite.ts';

function visible(u: User, actor: Actor | undefined): User | Omit<User, 'email'> {
  if (actor && (actor.userId === u.id || actor.role === 'admin')) return u;
  const { email: _private, ...rest } = u;
  return rest;
}

/** POST /v1/users, GET /v1/users/:id, PATCH /v1/users/:id. */
export async function userRoutes(app: FastifyInstance, opts: RouteDeps): Promise<void> {
  const errors = { '4xx': errorBodySchema };
  // A user's answer holds the email, sealed in the database: the key stores the id and a replay
  // reads the user again (in the replay's session, so it sees the write).
  const byId = (req: FastifyRequest): AnswerShape<User> => ({
    stored: (u) => ({ id: u.id }),
    replay: async (s) => opts.store.users.get((s as { id: number }).id, readCtx(req)),
  });

  app.post<{ Body: NewUser }>(
    '/v1/users',
    { schema: { headers: idempotencyHeaders, body: userBody, response: { 201: user, ...errors } } },
    async (req, reply) => opts.idempotency.write(req, reply, 201, (inTx) => opts.store.users.create(req.body, { session: req.consistency, deadline: req.deadline, inTx }), byId(req)),
  );

  app.get<{ Params: { id: string } }>(
    '/v1/users/:id',
    { preHandler: optionalActor(opts.tokens), schema: { params: idParams, response: { 200: user, ...errors } } },
    async (req) => visible(await opts.store.users.get(Number(req.params.id), readCtx(req)), req.actor),
  );

  app.patch<{ Params: { id: string }; Body: UserProfilePatch }>(
    '/v1/users/:id',
    { preHandler: requireActor(opts.tokens), schema: { security: [{ bearer: [] }], headers: idempotencyHeaders, params: idParams, body: userPatchBody, response: { 200: user, ...errors } } },
    async (req, reply) => {
      const actor = actorOf(req);
      const id = Number(req.params.id);
      if (actor.userId !== id && actor.role !== 'admin') throw new PgpressError('PGP_FORBIDDEN', 'Only the user or an admin may change a profile.');
      return opts.idempotency.write(req, reply, 200, (inTx) => opts.store.users.update(id, req.body, { ...writeCtx(req), inTx }), byId(req));
    },
  );
}
