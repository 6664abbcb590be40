// Checks every response against the schema its route documents (the OpenAPI contract): the app
// serialises with JSON.stringify, so this is what keeps the documentation honest.
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifyInstance } from 'fastify';

// ajv-formats ships CommonJS; its default export arrives wrapped under ESM.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (a: Ajv) => Ajv;

/** Adds an onSend hook that records every body breaking its documented schema; returns the record. */
export function enforceResponseContract(app: FastifyInstance): string[] {
  const violations: string[] = [];
  const ajv = addFormats(new Ajv({ strict: false, allErrors: true }));
  const cache = new Map<object, ValidateFunction>();
  app.addHook('onSend', async (req, reply, payload) => {
    const schemas = (req.routeOptions.schema?.response ?? {}) as Record<string, object>;
    const status = String(reply.statusCode);
    const schema = schemas[status] ?? schemas[`${status[0]}xx`];
    if (!schema || typeof payload !== 'string') return payload;
    let validate = cache.get(schema);
    if (!validate) cache.set(schema, (validate = ajv.compile(schema)));
    if (!validate(JSON.parse(payload))) {
      violations.push(`${req.method} ${req.url} → ${status} breaks its documented schema: ${ajv.errorsText(validate.errors)}`);
    }
    return payload;
  });
  return violations;
}
