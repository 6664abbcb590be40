// Several statements written to the server as one message: Parse/Bind/Describe/Execute for each,
// then ONE Sync, so they cost one network round trip. node-postgres sends one query at a time and
// a Sync after each; this is a custom query (its public Submittable contract: submit(connection)
// plus the handle* callbacks the client calls for the active query, as pg-cursor uses), built on
// pg's exported Result (row parsing with the client's type parsers) and utils.prepareValue (the
// same parameter encoding as pg.Query). test/db/roundTripsPgContract.test.ts fails if pg changes any of it.
//
// After an error the server skips every later message up to the Sync: the failed step is known
// (steps answered before it), the later ones never ran.
import pg from 'pg';

/** One statement of a pipeline: text and bind parameters (unnamed statement and portal). */
export interface PipelineStep {
  text: string;
  values: readonly unknown[];
}

/** What the server answered: each step's result up to the failure, and the failure with its step. */
export interface PipelineOutcome {
  results: pg.QueryResult[];
  /** The first error: a server error (ErrorResponse; steps after it were skipped) or the connection's. */
  error?: unknown;
  /** Index of the step the server's ErrorResponse answered; undefined when the server gave no answer (the connection failed). */
  failedStep?: number;
  /** False when pg refused before writing anything (a client whose connection had already failed). */
  sent: boolean;
}

/** The part of pg's Connection a pipeline writes to (public methods of pg's Connection). */
interface WireConnection {
  parse(q: { text: string; name: string; types: unknown[] }): void;
  bind(c: { portal: string; statement: string; values: unknown[]; valueMapper: (v: unknown) => unknown }): void;
  describe(c: { type: 'P'; name: string }): void;
  execute(c: { portal: string; rows: number }): void;
  sync(): void;
  sendCopyFail(msg: string): void;
  stream: { cork?: () => void; uncork?: () => void };
}

interface ResultInternals extends pg.QueryResult {
  addFields(fields: unknown[]): void;
  parseRow(fields: unknown[]): pg.QueryResultRow;
  addRow(row: pg.QueryResultRow): void;
  addCommandComplete(msg: unknown): void;
}

type ResultCtor = new (rowMode: undefined, types: unknown) => ResultInternals;
const Result = (pg as unknown as { Result: ResultCtor }).Result;
const prepareValue = (pg as unknown as { utils: { prepareValue: (v: unknown) => unknown } }).utils.prepareValue;

/** A pg Submittable that sends steps in one message and settles once the server is ready again. */
class PipelineQuery {
  private readonly results: ResultInternals[] = [];
  private current: ResultInternals;
  private rowError: unknown;
  private settled = false;
  private sent = false;

  constructor(
    private readonly steps: readonly PipelineStep[],
    private readonly types: unknown,
    private readonly callback: (outcome: PipelineOutcome) => void,
  ) {
    this.current = new Result(undefined, types);
  }

  submit(connection: WireConnection): void {
    // Corked: every message leaves in one write (one TCP segment when it fits).
    this.sent = true;
    connection.stream.cork?.();
    try {
      for (const s of this.steps) {
        connection.parse({ text: s.text, name: '', types: [] });
        connection.bind({ portal: '', statement: '', values: s.values as unknown[], valueMapper: prepareValue });
        connection.describe({ type: 'P', name: '' });
        connection.execute({ portal: '', rows: 0 });
      }
      connection.sync();
    } finally {
      connection.stream.uncork?.();
    }
  }

  handleRowDescription(msg: { fields: unknown[] }): void {
    this.current.addFields(msg.fields);
  }

  handleDataRow(msg: { fields: unknown[] }): void {
    if (this.rowError !== undefined) return;
    try {
      this.current.addRow(this.current.parseRow(msg.fields));
    } catch (e) {
      this.rowError = e;
    }
  }

  handleCommandComplete(msg: unknown): void {
    this.current.addCommandComplete(msg);
    this.results.push(this.current);
    this.current = new Result(undefined, this.types);
  }

  handleEmptyQuery(): void {
    this.results.push(this.current);
    this.current = new Result(undefined, this.types);
  }

  /** A server error (later steps were skipped) or the connection's failure. */
  handleError(err: unknown): void {
    // Only an ErrorResponse (pg.DatabaseError) names a step; a broken connection answered nothing.
    this.settle({ results: this.results, error: err, sent: this.sent, ...(err instanceof pg.DatabaseError ? { failedStep: this.results.length } : {}) });
  }

  handleReadyForQuery(): void {
    if (this.rowError !== undefined) this.settle({ results: this.results, error: this.rowError, failedStep: this.results.length, sent: true });
    else this.settle({ results: this.results, sent: true });
  }

  handlePortalSuspended(): void {
    // Never asked for (rows: 0 runs each portal to completion).
  }

  handleCopyInResponse(connection: WireConnection): void {
    connection.sendCopyFail('COPY is not supported in a pipeline');
  }

  handleCopyData(): void {
    // A COPY TO is not a pipeline step.
  }

  private settle(o: PipelineOutcome): void {
    if (this.settled) return;
    this.settled = true;
    this.callback(o);
  }
}

/**
 * Sends steps on client as one message (one round trip) and resolves with what the server
 * answered; it never rejects: a failure is the outcome's error, with the step it came from.
 */
export function sendPipeline(client: pg.ClientBase, steps: readonly PipelineStep[]): Promise<PipelineOutcome> {
  return new Promise((resolve) => {
    const q = new PipelineQuery(steps, client, resolve);
    void client.query(q as unknown as pg.Submittable);
  });
}
