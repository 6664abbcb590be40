// JSON schemas shared by the routes: every input bounded, unknown fields rejected.

/** A row id in a URL: a positive integer within JavaScript's safe range. */
export const idParams = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', pattern: '^[1-9][0-9]{0,14}$' } },
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
