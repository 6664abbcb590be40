// Article routes: create, read (drafts only to their author and editors), update with optimistic
// locking, publish, archive.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Article, ArticlePatch, NewArticle } from '../../content/articles/repository.ts';
import type { ArticleWriteContext } from '../../store.ts';
import { PgpressError } from '../../errors/index.ts';
import { actorOf, assertMayChange, mayChange, optionalActor, requireActor } from '../auth.ts';
import { errorBodySchema } from '../errors.ts';
import type { RouteDeps } from './deps.ts';
import { article, articleBody, articlePatchBody, idParams, slugParams, versionBody } from './schemas.ts';
import { readCtx, writeCtx } from '../requestContext.ts';
import { idempotencyHeaders } from '../idempotency/key.ts';

type ArticleBody = Omit<NewArticle, 'authorId'> & { authorId?: number };

/** Published articles are public; a draft or archived one is visible only to who may change it. */
function readable(a: Article, req: FastifyRequest): Article {
  if (a.status === 'published' || mayChange(req.actor, a.authorId)) return a;
  throw new PgpressError('PGP_NOT_FOUND', `Article ${a.id} does not exist.`);
}

/** POST/GET/PATCH /v1/articles…, POST /v1/articles/:id/publish|archive. */
export async function articleRoutes(app: FastifyInstance, opts: RouteDeps): Promise<void> {
  const { store, tokens, idempotency } = opts;
  const errors = { '4xx': errorBodySchema };
  const writer = { preHandler: requireActor(tokens) };
  const reader = { preHandler: optionalActor(tokens) };

  /** A write by the actor, allowed on the primary's row inside the write (authors: their own only). */
  function ownerWrite(req: FastifyRequest): ArticleWriteContext {
    const actor = actorOf(req);
    return { ...writeCtx(req), check: (a) => assertMayChange(actor, a.authorId) };
  }

  app.post<{ Body: ArticleBody }>(
    '/v1/articles',
    { ...writer, schema: { security: [{ bearer: [] }], headers: idempotencyHeaders, body: articleBody, response: { 201: article, ...errors } } },
    async (req, reply) => {
      const actor = actorOf(req);
      // Authors write as themselves; editors and admins may write on someone's behalf.
      const authorId = req.body.authorId ?? actor.userId;
      assertMayChange(actor, authorId);
      return idempotency.write(req, reply, 201, (inTx) => store.articles.create({ ...req.body, authorId }, { ...writeCtx(req), inTx }));
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/articles/:id',
    { ...reader, schema: { params: idParams, response: { 200: article, ...errors } } },
    async (req) => readable(await store.articles.get(Number(req.params.id), readCtx(req)), req),
  );

  app.get<{ Params: { slug: string } }>(
    '/v1/articles/by-slug/:slug',
    { ...reader, schema: { params: slugParams, response: { 200: article, ...errors } } },
    async (req) => readable(await store.articles.getBySlug(req.params.slug, readCtx(req)), req),
  );

  app.patch<{ Params: { id: string }; Body: ArticlePatch & { version: number } }>(
    '/v1/articles/:id',
    { ...writer, schema: { security: [{ bearer: [] }], headers: idempotencyHeaders, params: idParams, body: articlePatchBody, response: { 200: article, ...errors } } },
    async (req, reply) => {
      const { version, ...patch } = req.body;
      return idempotency.write(req, reply, 200, (inTx) => store.articles.update(Number(req.params.id), version, patch, { ...ownerWrite(req), inTx }));
    },
  );

  for (const action of ['publish', 'archive'] as const) {
    app.post<{ Params: { id: string }; Body: { version: number } }>(
      `/v1/articles/:id/${action}`,
      { ...writer, schema: { security: [{ bearer: [] }], headers: idempotencyHeaders, params: idParams, body: versionBody, response: { 200: article, ...errors } } },
      async (req, reply) => idempotency.write(req, reply, 200, (inTx) => store.articles[action](Number(req.params.id), req.body.version, { ...ownerWrite(req), inTx })),
    );
  }
}
