// A pino destination that keeps every line, for tests that check what was logged.
import { Writable } from 'node:stream';

/** The parsed JSON lines written so far, and the stream to hand to createLogger. */
export function captureLogs(): { lines: () => Array<Record<string, unknown>>; stream: Writable } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { stream, lines: () => chunks.join('').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}
