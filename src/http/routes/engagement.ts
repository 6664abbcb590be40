// Engagement events in, analytics out (read from the materialized views).
import type { FastifyInstance } from 'fastify';
import type { ArticleEvent } from '../../content/events/repository.ts';
import { noArticleStats } from '../../content/analytics/repository.ts';
import type { Actor } from '../../security/tokens.ts';
import type { WriteHooks } from '../../store.ts';
import { mayChange, optionalActor } from '../auth.ts';
import { errorBodySchema } from '../errors.ts';
import type { RouteDeps } from './deps.ts';
import { articleStats, clampInt, eventBatchBody, eventBody, idParams, topQuery, userStats } from './schemas.ts';
import { readCtx } from '../requestContext.ts';
import { idempotencyHeaders } from '../idempotency/key.ts';

type EventInput = Omit<ArticleEvent, 'userId'>;

/** Editors and admins may see (and so record events on) every article; authors their own and published ones. */
const seesAll = (actor: Actor | undefined): boolean => actor !== undefined && actor.role !== 'author';
/** The sender as row-level security's context (events on a draft need it to see the draft). */
const rlsActor = (actor: Actor | undefined): { actorId?: number; role?: string } => (actor === undefined ? {} : { actorId: actor.userId, role: actor.role });

/** POST /v1/events, POST /v1/events/batch, GET /v1/analytics/…. */
export async function engagementRoutes(app: FastifyInstance, opts: RouteDeps): Promise<void> {
  const { store, tokens, idempotency } = opts;
  const errors = { '4xx': errorBodySchema };
  // Readers may be anonymous; a token, when sent, attributes the events to its user (never the body).
  const reader = { preHandler: optionalActor(tokens) };

  app.post<{ Body: EventInput }>(
    '/v1/events',
    { ...reader, schema: { headers: idempotencyHeaders, body: eventBody, response: { 202: { type: 'object', required: ['accepted'], properties: { accepted: { type: 'integer' } } }, ...errors } } },
    async (req, reply) => {
      const record = (inTx: WriteHooks | undefined): Promise<string> =>
        store.events.record({ ...req.body, userId: req.actor?.userId ?? null }, { seesAll: seesAll(req.actor), deadline: req.deadline, ...rlsActor(req.actor), ...(inTx ? { inTx } : {}) });
      return idempotency.write(req, reply, 202, record, { body: () => ({ accepted: 1 }) });
    },
  );

  app.post<{ Body: { events: EventInput[] } }>(
    '/v1/events/batch',
    { ...reader, schema: { headers: idempotencyHeaders, body: eventBatchBody, response: { 202: { type: 'object', required: ['accepted'], properties: { accepted: { type: 'integer' } } }, ...errors } } },
    async (req, reply) => {
      const userId = req.actor?.userId ?? null;
      const record = (inTx: WriteHooks | undefined): Promise<number> =>
        store.events.recordBatch(req.body.events.map((e) => ({ ...e, userId })), { seesAll: seesAll(req.actor), deadline: req.deadline, ...rlsActor(req.actor), ...(inTx ? { inTx } : {}) });
      return idempotency.write(req, reply, 202, record, { body: (accepted) => ({ accepted }) });
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/analytics/articles/:id',
    { ...reader, schema: { params: idParams, response: { 200: articleStats, ...errors } } },
    async (req) => {
      const stats = await store.analytics.article(Number(req.params.id), readCtx(req));
      // The article's own rule: a draft's or an archived article's stats only for who may change it.
      if (stats.status !== 'published' && !mayChange(req.actor, stats.authorId)) throw noArticleStats(stats.articleId);
      return stats;
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/analytics/users/:id',
    { schema: { params: idParams, response: { 200: userStats, ...errors } } },
    async (req) => store.analytics.user(Number(req.params.id), readCtx(req)),
  );

  app.get<{ Querystring: { window?: '7d' | '30d' | 'all'; limit?: string } }>(
    '/v1/analytics/top',
    { schema: { querystring: topQuery, response: { 200: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: articleStats } } }, ...errors } } },
    async (req) => ({ items: await store.analytics.top(req.query.window ?? '7d', clampInt(req.query.limit, 1, 100, 10), readCtx(req)) }),
  );
}
