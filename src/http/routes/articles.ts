// Article routes: create and read.
import type { FastifyInstance } from 'fastify';
import type { NewArticle } from '../../content/articles/repository.ts';
import type { Store } from '../../store.ts';
import { errorBodySchema } from '../errors.ts';
import { article, articleBody, idParams } from './schemas.ts';

/** POST /v1/articles, GET /v1/articles/:id. */
export async function articleRoutes(app: FastifyInstance, opts: { store: Store }): Promise<void> {
  app.post<{ Body: NewArticle }>(
    '/v1/articles',
    { schema: { body: articleBody, response: { 201: article, '4xx': errorBodySchema } } },
    async (req, reply) => reply.status(201).send(await opts.store.articles.create(req.body)),
  );

  app.get<{ Params: { id: string } }>(
    '/v1/articles/:id',
    { schema: { params: idParams, response: { 200: article, '4xx': errorBodySchema } } },
    async (req) => opts.store.articles.get(Number(req.params.id)),
  );
}
