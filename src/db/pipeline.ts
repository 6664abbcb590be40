// Several statements written to the server as one message: Parse/Bind/Describe/Execute for each,
// then ONE Sync, so they cost one network round trip. node-postgres sends one query at a time and
// a Sync after each; this is a custom query (its public Submittable contract: submit(connection)
// plus the handle* callbacks the client calls for the active query, as pg-cursor uses), built on
// pg's exported Result (row parsing with the client's type parsers) and utils.prepareValue (the
// same parameter encoding as pg.Query). test/db/roundTripsPgContract.test.ts fails if pg changes any of it.
//
// After an error the server skips every later message up to the Sync: the failed step is known
// (steps answered before it), the later ones never ran.
//
// A step with a name is a prepared statement of the connection: parsed (and planned) once per
// connection, later pipelines send only Bind/Execute. Without it every write re-planned
// its INSERT (12 lseek calls of the planner's relation sizes per write, and as much backend CPU
// as tx()'s four round trips saved). A name counts as prepared only once the server's ParseComplete
// for it arrived (the Connection's public 'parseComplete' event, in order): a Parse skipped after
// an error, or one that failed, is sent again next time.
// A named step is also described once per connection: its rows' description (RowDescription, or
// none) is kept from the first answer that completed, and later pipelines send no Describe — a
// prepared statement's result type cannot change (PostgreSQL refuses with 0A000 "cached plan must
// not change result type"). A one-trip write then sends 11 messages instead of 16 (test/db/roundTrips.test.ts).
import pg from 'pg';

/** One statement of a pipeline: text and bind parameters; with a name, a prepared statement of the connection. */
export interface PipelineStep {
  text: string;
  values: readonly unknown[];
  /** Prepared once per connection under this name (unique to the pipeline: never a name pg.Query uses). */
  name?: string | undefined;
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
  on(event: 'parseComplete', fn: () => void): unknown;
  removeListener(event: 'parseComplete', fn: () => void): unknown;
  stream: { cork?: () => void; uncork?: () => void };
}

// Statements each connection has prepared for pipelines: name → text (gone with the connection).
const preparedOn = new WeakMap<WireConnection, Map<string, string>>();
// Their rows' descriptions, once a described Execute of each completed: name → fields ([]: no rows).
const describedOn = new WeakMap<WireConnection, Map<string, unknown[]>>();

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
  private connection: WireConnection | undefined;
  // Every Parse this pipeline sent, in order (its name, '' for unnamed), and how many the server completed.
  private readonly parsing: string[] = [];
  private named = false;
  private parsed = 0;
  private readonly onParseComplete = (): void => void this.parsed++;
  // Per step: the name whose description its answer completes (it sent a Describe), or the
  // description it was bound with (it sent none); undefined for an unnamed step (described each time).
  private readonly describing: (string | undefined)[] = [];
  private readonly knownFields: (unknown[] | undefined)[] = [];
  private described: Map<string, unknown[]> | undefined;

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
    let prepared = preparedOn.get(connection);
    if (!prepared) preparedOn.set(connection, (prepared = new Map()));
    let described = describedOn.get(connection);
    if (!described) describedOn.set(connection, (described = new Map()));
    this.described = described;
    connection.stream.cork?.();
    try {
      for (const s of this.steps) {
        // A name prepared with other text (never expected) falls back to the unnamed statement.
        const known = s.name === undefined ? undefined : (prepared.get(s.name) ?? (this.parsing.includes(s.name) ? s.text : undefined));
        const name = s.name === undefined || (known !== undefined && known !== s.text) ? '' : s.name;
        if (name === '' || known === undefined) {
          if (name !== '' && !this.named) {
            // Answers arrive through the event loop, after this synchronous submit: none is missed.
            this.named = true;
            this.connection = connection;
            connection.on('parseComplete', this.onParseComplete);
          }
          this.parsing.push(name);
          connection.parse({ text: s.text, name, types: [] });
        }
        connection.bind({ portal: '', statement: name, values: s.values as unknown[], valueMapper: prepareValue });
        // Parsed just now (known undefined): no description can be kept for it yet.
        const fields = name === '' || known === undefined ? undefined : described.get(name);
        this.knownFields.push(fields);
        this.describing.push(name === '' || fields !== undefined ? undefined : name);
        if (fields === undefined) connection.describe({ type: 'P', name: '' });
        connection.execute({ portal: '', rows: 0 });
      }
      connection.sync();
    } finally {
      connection.stream.uncork?.();
    }
    this.bindFields();
  }

  /** The current step's kept description, when it sent no Describe (its rows parse as if it had). */
  private bindFields(): void {
    const fields = this.knownFields[this.results.length];
    if (fields !== undefined && fields.length > 0) this.current.addFields(fields);
  }

  /** Keeps the description of the step that just completed, if it sent a Describe under a name. */
  private keepFields(): void {
    const name = this.describing[this.results.length];
    if (name !== undefined) this.described?.set(name, this.current.fields);
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
    this.keepFields();
    this.results.push(this.current);
    this.current = new Result(undefined, this.types);
    this.bindFields();
  }

  handleEmptyQuery(): void {
    this.keepFields();
    this.results.push(this.current);
    this.current = new Result(undefined, this.types);
    this.bindFields();
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
    const c = this.connection;
    if (c) {
      c.removeListener('parseComplete', this.onParseComplete);
      // The server answers Parses in the order sent: the first `parsed` of them are prepared now
      // (after an error the later ones were skipped, or the failing one refused).
      if (this.named) {
        const prepared = preparedOn.get(c)!;
        for (let i = 0; i < this.parsed && i < this.parsing.length; i++) {
          const name = this.parsing[i]!;
          if (name !== '') prepared.set(name, this.steps.find((s) => s.name === name)!.text);
        }
      }
    }
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
