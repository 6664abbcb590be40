// The one rule for "may this connection be used again?" after a failure on it, shared by every
// path: single statements, transactions, replica reads and ping.
import { sqlstateOf } from '../errors/index.ts';
import { retryRule } from './retryPolicy.ts';

/**
 * True when the connection must be closed, not reused: its lease expired (the deadline cancelled
 * it mid-statement), or a statement on it failed without a server answer (the socket broke, or
 * the driver lost the protocol state) or with a connection-class SQLSTATE. A server error (a
 * SQLSTATE) leaves a usable connection (after ROLLBACK in a transaction). statementError is
 * undefined when the failure was not a statement's (the caller's own code threw).
 */
export function mustDiscard(expired: boolean, statementError: unknown): boolean {
  if (expired) return true;
  if (statementError === undefined) return false;
  // A standby's connection (25006) stays on a standby: a new one may reach the primary (after a failover).
  const kind = retryRule(statementError)?.kind;
  return sqlstateOf(statementError) === undefined || kind === 'connection' || kind === 'notPrimary';
}
