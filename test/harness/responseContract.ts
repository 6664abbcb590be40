// Checks every response against the schema its route documents (the OpenAPI contract): the app
// serialises with JSON.stringify, so this is what keeps the documentation honest.
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifyInstance } from 'fastify';

// ajv-formats ships CommonJS; its default export arrives wrapped under ESM.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (a: Ajv) => Ajv;

/**
 * Adds an onSend hook that records every response its route's documentation does not describe: a
 * status it does not list, a body breaking the listed schema, a documented header missing.
 */
export function enforceResponseContract(app: FastifyInstance): string[] {
  const violations: string[] = [];
  const ajv = addFormats(new Ajv({ strict: false, allErrors: true }));
  const cache = new Map<object, ValidateFunction>();
  app.addHook('onSend', async (req, reply, payload) => {
    const schemas = (req.routeOptions.schema?.response ?? {}) as Record<string, object>;
    const status = String(reply.statusCode);
    const schema = schemas[status] ?? schemas[`${status[0]}xx`];
    if (!schema) {
      if (Object.keys(schemas).length > 0) violations.push(`${req.method} ${req.url} → ${status} is not among its documented responses`);
      return payload;
    }
    for (const header of Object.keys((schema as { headers?: object }).headers ?? {})) {
      if (reply.getHeader(header) === undefined) violations.push(`${req.method} ${req.url} → ${status} lacks its documented ${header} header`);
    }
    if (typeof payload !== 'string') return payload;
    let validate = cache.get(schema);
    if (!validate) cache.set(schema, (validate = ajv.compile(schema)));
    if (!validate(JSON.parse(payload))) {
      violations.push(`${req.method} ${req.url} → ${status} breaks its documented schema: ${ajv.errorsText(validate.errors)}`);
    }
    return payload;
  });
  return violations;
}
