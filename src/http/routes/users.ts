// User routes: sign up, read (email only to its owner and admins), update one's profile.
import type { FastifyInstance } from 'fastify';
import type { NewUser, User, UserProfilePatch } from '../../content/users/repository.ts';
import { PgpressError } from '../../errors/index.ts';
import type { Actor } from '../../security/tokens.ts';
import { actorOf, optionalActor, requireActor } from '../auth.ts';
import { errorBodySchema } from '../errors.ts';
import type { RouteDeps } from './deps.ts';
import { idParams, user, userBody, userPatchBody } from './schemas.ts';
import { readCtx, writeCtx } from '../requestContext.ts';

function visible(u: User, actor: Actor | undefined): User | Omit<User, 'email'> {
  if (actor && (actor.userId === u.id || actor.role === 'admin')) return u;
  const { email: _private, ...rest } = u;
  return rest;
}

/** POST /v1/users, GET /v1/users/:id, PATCH /v1/users/:id. */
export async function userRoutes(app: FastifyInstance, opts: RouteDeps): Promise<void> {
  const errors = { '4xx': errorBodySchema };

  app.post<{ Body: NewUser }>(
    '/v1/users',
    { schema: { body: userBody, response: { 201: user, ...errors } } },
    async (req, reply) => reply.status(201).send(await opts.store.users.create(req.body, { session: req.consistency, deadline: req.deadline })),
  );

  app.get<{ Params: { id: string } }>(
    '/v1/users/:id',
    { preHandler: optionalActor(opts.tokens), schema: { params: idParams, response: { 200: user, ...errors } } },
    async (req) => visible(await opts.store.users.get(Number(req.params.id), readCtx(req)), req.actor),
  );

  app.patch<{ Params: { id: string }; Body: UserProfilePatch }>(
    '/v1/users/:id',
    { preHandler: requireActor(opts.tokens), schema: { security: [{ bearer: [] }], params: idParams, body: userPatchBody, response: { 200: user, ...errors } } },
    async (req) => {
      const actor = actorOf(req);
      const id = Number(req.params.id);
      if (actor.userId !== id && actor.role !== 'admin') throw new PgpressError('PGP_FORBIDDEN', 'Only the user or an admin may change a profile.');
      return opts.store.users.update(id, req.body, writeCtx(req));
    },
  );
}
