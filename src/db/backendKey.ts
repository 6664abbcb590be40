// The one place that reads what node-postgres keeps on a client without typing it: the
// BackendKeyData (backend process id, secret key) a cancel request names, and where the client
// connected. test/db/backendKey.test.ts fails if a pg upgrade moves or renames these fields.
import type pg from 'pg';

/** What a CancelRequest needs to reach and name one backend. */
export interface BackendKey {
  processID: number;
  secretKey: number;
  /** Host name, IP address or a unix socket directory (starts with '/'); undefined: pg's default. */
  host: string | undefined;
  port: number | undefined;
}

/** The client's backend key, or undefined before the server has sent one. */
export function backendKey(client: pg.ClientBase): BackendKey | undefined {
  const c = client as unknown as { processID?: unknown; secretKey?: unknown; host?: unknown; port?: unknown };
  if (typeof c.processID !== 'number' || typeof c.secretKey !== 'number') return undefined;
  return {
    processID: c.processID,
    secretKey: c.secretKey,
    host: typeof c.host === 'string' ? c.host : undefined,
    port: typeof c.port === 'number' ? c.port : undefined,
  };
}
