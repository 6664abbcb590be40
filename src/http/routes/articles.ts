// Article routes: create (authenticated) and read.
import type { FastifyInstance } from 'fastify';
import type { NewArticle } from '../../content/articles/repository.ts';
import { actorOf, assertMayChange, requireActor } from '../auth.ts';
import { errorBodySchema } from '../errors.ts';
import type { RouteDeps } from './deps.ts';
import { article, articleBody, idParams } from './schemas.ts';

type ArticleBody = Omit<NewArticle, 'authorId'> & { authorId?: number };

/** POST /v1/articles, GET /v1/articles/:id. */
export async function articleRoutes(app: FastifyInstance, opts: RouteDeps): Promise<void> {
  app.post<{ Body: ArticleBody }>(
    '/v1/articles',
    {
      preHandler: requireActor(opts.tokens),
      schema: { security: [{ bearer: [] }], body: articleBody, response: { 201: article, '4xx': errorBodySchema } },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      // Authors write as themselves; editors and admins may write on someone's behalf.
      const authorId = req.body.authorId ?? actor.userId;
      assertMayChange(actor, authorId);
      return reply.status(201).send(await opts.store.articles.create({ ...req.body, authorId }, { actorId: actor.userId }));
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/articles/:id',
    { schema: { params: idParams, response: { 200: article, '4xx': errorBodySchema } } },
    async (req) => opts.store.articles.get(Number(req.params.id)),
  );
}
