// The JSON body parser: secure-json-parse's prototype protection plus a nesting-depth bound.
import type { FastifyInstance } from 'fastify';
import { PgpressError } from '../errors/index.ts';

/** Deepest accepted nesting of objects and arrays in a request body. */
export const MAX_JSON_DEPTH = 32;

/** Depth of [ and { outside strings; stops counting as soon as the bound is passed. */
export function jsonDepthExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > max) return true;
    } else if (c === 125 || c === 93) depth--;
  }
  return false;
}

/** Replaces Fastify's JSON parser with one that refuses deep nesting before parsing. */
export function installJsonParser(app: FastifyInstance): void {
  const defaultParser = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const text = body as string;
    if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) {
      done(new PgpressError('PGP_VALIDATION', `The JSON body is nested deeper than ${MAX_JSON_DEPTH} levels.`), undefined);
      return;
    }
    defaultParser(req, text, done);
  });
}
