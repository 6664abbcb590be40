// Comment routes: list an article's comments, comment, delete one's own comment.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { PgpressError } from '../../errors/index.ts';
import { actorOf, mayChange, optionalActor, requireActor } from '../auth.ts';
import { errorBodySchema } from '../errors.ts';
import type { RouteDeps } from './deps.ts';
import { clampInt, comment, commentBody, commentsQuery, idParams } from './schemas.ts';
import { readCtx, writeCtx } from '../requestContext.ts';
import { idempotencyHeaders } from '../idempotency/key.ts';

/** GET/POST /v1/articles/:id/comments, DELETE /v1/comments/:id. */
export async function commentRoutes(app: FastifyInstance, opts: RouteDeps): Promise<void> {
  const { store, tokens, idempotency } = opts;
  const errors = { '4xx': errorBodySchema };

  /** Comments hang off articles the caller can read: a draft's are as hidden as the draft. */
  async function assertReadable(req: FastifyRequest, articleId: number): Promise<void> {
    const a = await store.articles.get(articleId, readCtx(req));
    if (a.status !== 'published' && !mayChange(req.actor, a.authorId)) throw new PgpressError('PGP_NOT_FOUND', `Article ${articleId} does not exist.`);
  }

  app.get<{ Params: { id: string }; Querystring: { after?: string; limit?: string } }>(
    '/v1/articles/:id/comments',
    { preHandler: optionalActor(tokens), schema: { params: idParams, querystring: commentsQuery, response: { 200: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: comment } } }, ...errors } } },
    async (req) => {
      const articleId = Number(req.params.id);
      await assertReadable(req, articleId);
      const items = await store.comments.list(articleId, { afterId: Number(req.query.after ?? 0), limit: clampInt(req.query.limit, 1, 200, 50) }, readCtx(req));
      return { items };
    },
  );

  app.post<{ Params: { id: string }; Body: { body: string; parentId?: number } }>(
    '/v1/articles/:id/comments',
    { preHandler: requireActor(tokens), schema: { security: [{ bearer: [] }], headers: idempotencyHeaders, params: idParams, body: commentBody, response: { 201: comment, ...errors } } },
    async (req, reply) => {
      const actor = actorOf(req);
      const articleId = Number(req.params.id);
      // Decided on the primary inside the insert's transaction: an article archived a moment ago
      // is closed even while a replica still shows it published.
      const check = (a: { authorId: number; status: string }): void => {
        if (a.status !== 'published' && !mayChange(actor, a.authorId)) throw new PgpressError('PGP_NOT_FOUND', `Article ${articleId} does not exist.`);
      };
      const input = { articleId, authorId: actor.userId, body: req.body.body, parentId: req.body.parentId ?? null };
      return idempotency.write(req, reply, 201, (inTx) => store.comments.create(input, { ...writeCtx(req), check, inTx }));
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/v1/comments/:id',
    { preHandler: requireActor(tokens), schema: { security: [{ bearer: [] }], headers: idempotencyHeaders, params: idParams, response: { 200: comment, ...errors } } },
    async (req, reply) => idempotency.write(req, reply, 200, (inTx) => store.comments.delete(Number(req.params.id), { ...writeCtx(req), inTx })),
  );
}
