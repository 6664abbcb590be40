// User routes: create and read.
import type { FastifyInstance } from 'fastify';
import type { NewUser } from '../../content/users/repository.ts';
import type { RouteDeps } from './deps.ts';
import { errorBodySchema } from '../errors.ts';
import { idParams, user, userBody } from './schemas.ts';

/** POST /v1/users, GET /v1/users/:id. */
export async function userRoutes(app: FastifyInstance, opts: RouteDeps): Promise<void> {
  app.post<{ Body: NewUser }>(
    '/v1/users',
    { schema: { body: userBody, response: { 201: user, '4xx': errorBodySchema } } },
    async (req, reply) => reply.status(201).send(await opts.store.users.create(req.body)),
  );

  app.get<{ Params: { id: string } }>(
    '/v1/users/:id',
    { schema: { params: idParams, response: { 200: user, '4xx': errorBodySchema } } },
    async (req) => opts.store.users.get(Number(req.params.id)),
  );
}
