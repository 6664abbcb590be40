// The error catalogue, the PgpressError class and the PostgreSQL error mapping.
export { ERROR_CATALOGUE, type ErrorCode } from './catalogue.ts';
export { PgpressError, isPgpressError, isPgServerError, type PgDetails } from './pgpressError.ts';
export { fromPgError, sqlstateOf } from './fromPg.ts';
