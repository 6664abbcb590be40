// JSON schemas shared by the routes: every input bounded, unknown fields rejected, and an example
// for each (/docs shows them; test/security/examples.test.ts sends them against seeded ids).

/** A row id in a URL: a positive integer within JavaScript's safe range. */
export const idParams = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', pattern: '^[1-9][0-9]{0,14}$', examples: ['1'] } },
} as const;

export const userBody = {
  type: 'object',
  required: ['email', 'username', 'displayName'],
  additionalProperties: false,
  properties: {
    email: { type: 'string', minLength: 3, maxLength: 320, pattern: '^[^@\\s]+@[^@\\s]+$' },
    username: { type: 'string', pattern: '^[a-z0-9_]{3,32}$' },
    displayName: { type: 'string', minLength: 1, maxLength: 100 },
    bio: { type: 'string', maxLength: 2000 },
  },
  examples: [{ email: 'ada@example.com', username: 'ada_lovelace', displayName: 'Ada Lovelace', bio: 'Writes about databases.' }],
} as const;

export const user = {
  type: 'object',
  required: ['id', 'username', 'displayName', 'bio', 'createdAt', 'updatedAt'],
  properties: {
    id: { type: 'integer' },
    email: { type: 'string' },
    username: { type: 'string' },
    displayName: { type: 'string' },
    bio: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
} as const;

export const articleBody = {
  type: 'object',
  required: ['title'],
  additionalProperties: false,
  properties: {
    authorId: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
    title: { type: 'string', minLength: 1, maxLength: 300 },
    body: { type: 'string', maxLength: 1_000_000 },
    slug: { type: 'string', maxLength: 200, pattern: '^[a-z0-9]+(-[a-z0-9]+)*$' },
    status: { type: 'string', enum: ['draft', 'published'] },
    tags: { type: 'array', maxItems: 20, uniqueItems: true, items: { type: 'string', minLength: 1, maxLength: 50 } },
    metadata: { type: 'object', maxProperties: 50 },
  },
  examples: [{ authorId: 1, title: 'Indexes in PostgreSQL', body: 'B-tree, GIN and GiST, and when each helps.', slug: 'indexes-in-postgresql', status: 'draft', tags: ['postgres'], metadata: { series: 'intro', lang: 'en' } }],
} as const;

export const article = {
  type: 'object',
  required: ['id', 'authorId', 'title', 'slug', 'body', 'status', 'tags', 'metadata', 'version', 'createdAt', 'updatedAt', 'publishedAt'],
  properties: {
    id: { type: 'integer' },
    authorId: { type: 'integer' },
    title: { type: 'string' },
    slug: { type: 'string' },
    body: { type: 'string' },
    status: { type: 'string', enum: ['draft', 'published', 'archived'] },
    tags: { type: 'array', items: { type: 'string' } },
    metadata: { type: 'object', additionalProperties: true },
    version: { type: 'integer' },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
    publishedAt: { type: ['string', 'null'], format: 'date-time' },
  },
} as const;

/** A whole number in a query string (no coercion happens, so it is matched as text). */
export const digits = { type: 'string', pattern: '^[0-9]{1,9}$' } as const;

/** Parses a digits query value and clamps it to [min, max]; absent → fallback. */
export function clampInt(raw: string | undefined, min: number, max: number, fallback: number): number {
  if (raw === undefined) return fallback;
  return Math.min(max, Math.max(min, Number(raw)));
}

/** A row version for optimistic locking. */
const version = { type: 'integer', minimum: 1, maximum: 2_147_483_647 } as const;

export const versionBody = {
  type: 'object',
  required: ['version'],
  additionalProperties: false,
  properties: { version },
  examples: [{ version: 1 }],
} as const;

export const articlePatchBody = {
  type: 'object',
  required: ['version'],
  additionalProperties: false,
  minProperties: 2,
  properties: {
    version,
    title: articleBody.properties.title,
    body: articleBody.properties.body,
    slug: articleBody.properties.slug,
    tags: articleBody.properties.tags,
    metadata: articleBody.properties.metadata,
  },
  examples: [{ version: 1, title: 'Hello, PostgreSQL', body: 'A first look at tables and indexes.', slug: 'hello-postgres', tags: ['postgres'], metadata: { series: 'intro', lang: 'en' } }],
} as const;

export const userPatchBody = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: { displayName: userBody.properties.displayName, bio: userBody.properties.bio },
  examples: [{ displayName: 'Ada L.', bio: 'Writes about databases and engines.' }],
} as const;

export const slugParams = {
  type: 'object',
  required: ['slug'],
  additionalProperties: false,
  properties: { slug: { type: 'string', maxLength: 200, pattern: '^[a-z0-9]+(-[a-z0-9]+)*$', examples: ['hello-postgres'] } },
} as const;

/** `?meta=`: JSON text of an object the article's metadata must contain (parsed and checked by
 *  parseMetaFilter: bad JSON or a non-object is PGP_VALIDATION naming `meta`). */
const metaParam = { type: 'string', minLength: 2, maxLength: 1000, pattern: '^\\s*\\{', description: 'JSON object the metadata must contain (metadata @> meta), e.g. {"series":"x"}', examples: ['{"series":"intro"}'] } as const;
/** `?lang=`: a language tag compared with metadata.lang. */
const langParam = { type: 'string', maxLength: 35, pattern: '^[a-z]{2,3}(-[A-Za-z0-9]{1,8}){0,3}$', description: 'Language tag compared with metadata.lang, e.g. en', examples: ['en'] } as const;

export const feedQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: { ...digits, examples: ['20'] },
    // A cursor as the feed hands them out: base64url of [microseconds since the epoch, id].
    cursor: { type: 'string', maxLength: 200, pattern: '^[A-Za-z0-9_-]+$', examples: ['WyIxNzY3MjI1NjAwMDAwMDAwIiwiMSJd'] },
    tag: { type: 'string', minLength: 1, maxLength: 50, examples: ['postgres'] },
    author: { type: 'string', pattern: '^[1-9][0-9]{0,14}$', examples: ['1'] },
    meta: metaParam,
    lang: langParam,
  },
} as const;

export const feedPageSchema = {
  type: 'object',
  required: ['items', 'nextCursor'],
  properties: {
    items: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'authorId', 'title', 'slug', 'publishedAt'],
        properties: { id: { type: 'integer' }, authorId: { type: 'integer' }, title: { type: 'string' }, slug: { type: 'string' }, publishedAt: { type: 'string', format: 'date-time' } },
      },
    },
    nextCursor: { type: ['string', 'null'] },
  },
} as const;

export const searchQuery = {
  type: 'object',
  required: ['q'],
  additionalProperties: false,
  properties: { q: { type: 'string', minLength: 1, maxLength: 500, examples: ['postgres'] }, limit: { ...digits, examples: ['10'] }, page: { ...digits, examples: ['1'] }, meta: metaParam, lang: langParam },
} as const;

export const searchPageSchema = {
  type: 'object',
  required: ['items', 'page', 'nextPage'],
  properties: {
    items: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'title', 'slug', 'rank', 'snippet'],
        properties: { id: { type: 'integer' }, title: { type: 'string' }, slug: { type: 'string' }, publishedAt: { type: ['string', 'null'] }, rank: { type: 'number' }, snippet: { type: 'string', description: 'HTML: the article text escaped, matches wrapped in <mark>' } },
      },
    },
    page: { type: 'integer' },
    nextPage: { type: ['integer', 'null'] },
  },
} as const;

export const titleMatchesSchema = {
  type: 'object',
  required: ['items'],
  properties: {
    items: {
      type: 'array',
      items: { type: 'object', required: ['id', 'title', 'slug', 'score'], properties: { id: { type: 'integer' }, title: { type: 'string' }, slug: { type: 'string' }, score: { type: 'number' } } },
    },
  },
} as const;

export const comment = {
  type: 'object',
  required: ['id', 'articleId', 'authorId', 'parentId', 'body', 'createdAt', 'deletedAt'],
  properties: {
    id: { type: 'integer' },
    articleId: { type: 'integer' },
    authorId: { type: 'integer' },
    parentId: { type: ['integer', 'null'] },
    body: { type: ['string', 'null'] },
    createdAt: { type: 'string', format: 'date-time' },
    deletedAt: { type: ['string', 'null'], format: 'date-time' },
  },
} as const;

export const commentBody = {
  type: 'object',
  required: ['body'],
  additionalProperties: false,
  properties: {
    body: { type: 'string', minLength: 1, maxLength: 10_000 },
    parentId: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
  },
  examples: [{ body: 'Thanks, this helped.', parentId: 1 }],
} as const;

export const commentsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { after: { type: 'string', pattern: '^[0-9]{1,15}$', examples: ['0'] }, limit: { ...digits, examples: ['50'] } },
} as const;

const eventItem = {
  type: 'object',
  required: ['articleId', 'kind'],
  additionalProperties: false,
  properties: {
    articleId: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
    kind: { type: 'string', enum: ['view', 'like', 'share', 'read_time'] },
    readMs: { type: 'integer', minimum: 0, maximum: 86_400_000 },
    occurredAt: { type: 'string', format: 'date-time', maxLength: 40 },
  },
} as const;

/** Largest batch accepted over HTTP (the library takes up to 10,000). */
export const MAX_HTTP_EVENT_BATCH = 1000;

export const eventBody = { ...eventItem, examples: [{ articleId: 1, kind: 'read_time', readMs: 42_000 }] } as const;
export const eventBatchBody = {
  type: 'object',
  required: ['events'],
  additionalProperties: false,
  properties: { events: { type: 'array', minItems: 1, maxItems: MAX_HTTP_EVENT_BATCH, items: eventItem } },
  examples: [{ events: [{ articleId: 1, kind: 'view' }, { articleId: 1, kind: 'like' }] }],
} as const;

export const articleStats = {
  type: 'object',
  required: ['articleId', 'authorId', 'status', 'views', 'uniqueViewers', 'likes', 'shares', 'comments', 'computedAt'],
  properties: Object.fromEntries(
    [
      ['articleId', 'integer'], ['authorId', 'integer'], ['status', 'string'], ['views', 'integer'], ['uniqueViewers', 'integer'], ['likes', 'integer'], ['shares', 'integer'],
      ['comments', 'integer'], ['readMsTotal', 'integer'], ['readMsAvg', ['number', 'null']], ['views7d', 'integer'], ['views30d', 'integer'],
      ['engagement7d', 'integer'], ['engagement30d', 'integer'], ['lastEventAt', ['string', 'null']], ['computedAt', 'string'],
    ].map(([k, t]) => [k, { type: t }]),
  ),
} as const;

export const userStats = {
  type: 'object',
  required: ['userId', 'articlesWritten', 'computedAt'],
  properties: Object.fromEntries(
    [
      ['userId', 'integer'], ['articlesWritten', 'integer'], ['articlesPublished', 'integer'], ['commentsWritten', 'integer'], ['viewsReceived', 'integer'],
      ['likesReceived', 'integer'], ['sharesReceived', 'integer'], ['commentsReceived', 'integer'], ['engagementReceived', 'integer'],
      ['activeDays', 'integer'], ['lastActiveAt', ['string', 'null']], ['computedAt', 'string'],
    ].map(([k, t]) => [k, { type: t }]),
  ),
} as const;

export const topQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { window: { type: 'string', enum: ['7d', '30d', 'all'], examples: ['7d'] }, limit: { ...digits, examples: ['10'] } },
} as const;
