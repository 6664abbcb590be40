// Maps every error to the catalogue and to the body { code, message, requestId }.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_CATALOGUE } from '../errors/catalogue.ts';
import { PgpressError, isPgpressError, type ErrorCode } from '../errors/index.ts';
import type { WarningSummary } from './warningSummary.ts';

/** The JSON body of every error response. */
export interface ErrorBody {
  code: ErrorCode;
  message: string;
  requestId: string;
}

/** JSON schema of ErrorBody, for OpenAPI and response serialisation. */
export const errorBodySchema = {
  type: 'object',
  required: ['code', 'message', 'requestId'],
  properties: { code: { type: 'string' }, message: { type: 'string' }, requestId: { type: 'string' } },
} as const;

const retryAfter = { 'retry-after': { type: 'integer', description: 'Seconds to wait before retrying.' } } as const;

/** The failures every route may answer (documented on each by app.ts). */
export const failureResponses = {
  500: { description: 'An unexpected failure (PGP_INTERNAL, PGP_DB_ERROR, …); the log has the details under the request id.', ...errorBodySchema },
  503: {
    description: 'Unavailable for now (PGP_OVERLOADED, PGP_DB_UNAVAILABLE, PGP_CIRCUIT_OPEN, PGP_POOL_TIMEOUT, PGP_OUTCOME_UNKNOWN, …): retry after Retry-After.',
    headers: retryAfter,
    ...errorBodySchema,
  },
  504: { description: 'The request did not finish within its budget (PGP_DEADLINE_EXCEEDED).', ...errorBodySchema },
} as const;

/** What a rate-limited route answers past the limit. */
export const rateLimitedResponse = {
  429: { description: 'Too many requests from this client (PGP_RATE_LIMITED): retry after Retry-After.', headers: retryAfter, ...errorBodySchema },
} as const;

type AjvIssue = NonNullable<FastifyError['validation']>[number];

/** One schema violation in words that name the field: `title: must NOT have fewer than 1 characters`. */
function describe(v: AjvIssue): string {
  const field = v.instancePath.slice(1).replace(/\//g, '.');
  const p = v.params as { additionalProperty?: string; missingProperty?: string };
  if (p.additionalProperty !== undefined) return `unknown field ${JSON.stringify(field ? `${field}.${p.additionalProperty}` : p.additionalProperty)}`;
  if (p.missingProperty !== undefined) return `${JSON.stringify(field ? `${field}.${p.missingProperty}` : p.missingProperty)} is required`;
  return `${field || 'value'} ${v.message ?? 'is invalid'}`;
}

function toPgpressError(err: FastifyError | Error): PgpressError {
  if (isPgpressError(err)) return err;
  const f = err as FastifyError;
  if (f.validation) {
    const where = f.validationContext ?? 'request';
    return new PgpressError('PGP_VALIDATION', `Invalid ${where}: ${f.validation.map(describe).join('; ')}.`);
  }
  if (f.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new PgpressError('PGP_PAYLOAD_TOO_LARGE', 'The request body is larger than the limit.');
  if (typeof f.statusCode === 'number' && f.statusCode >= 400 && f.statusCode < 500) {
    // Malformed JSON, wrong content type, empty body: the client's to fix.
    return new PgpressError('PGP_VALIDATION', f.message);
  }
  return new PgpressError('PGP_INTERNAL', 'Something went wrong on our side; the log has the details.', { cause: err });
}

// Refusals that carry no news are summarised, not logged one by one: a line each would make the
// log grow with the overload or outage it reports. Shedding counts its own (loadShedding.ts); an
// open circuit's fail-fast answers are counted here (the failures that opened it were logged).
const SUMMARISED: Readonly<Partial<Record<ErrorCode, string | null>>> = { PGP_OVERLOADED: null, PGP_CIRCUIT_OPEN: 'circuit_open' };

/** Fastify error handler: catalogued status and body; 5xx logged with the request id (fail-fast refusals summarised in `refused`). */
export function errorHandler(refused?: WarningSummary): (err: FastifyError | Error, req: FastifyRequest, reply: FastifyReply) => void {
  return (err, req, reply) => handleError(err, req, reply, refused);
}

function handleError(err: FastifyError | Error, req: FastifyRequest, reply: FastifyReply, refused: WarningSummary | undefined): void {
  const e = toPgpressError(err);
  const status = e.code === 'PGP_VALIDATION' && (err as FastifyError).statusCode === 415 ? 415 : e.status;
  const summarised = SUMMARISED[e.code];
  if (summarised === undefined) {
    if (status >= 500) req.log.error({ err, code: e.code }, 'request failed');
  } else if (summarised !== null) {
    refused?.note(summarised);
  }
  if (status === 401) void reply.header('www-authenticate', 'Bearer realm="pgpress"');
  // Every 503 says when to come back (shedding sets its own value first).
  if (status === 503 && !reply.hasHeader('retry-after')) void reply.header('retry-after', '1');
  // A 5xx message is written for operators: a connect error names the host, port and user, an
  // internal one the code's state. Clients get the code's catalogued summary; the log (above) has
  // the rest under the same request id.
  const message = status >= 500 ? ERROR_CATALOGUE[e.code].summary : e.message;
  const body: ErrorBody = { code: e.code, message, requestId: String(req.id) };
  void reply.status(status).send(body);
}
