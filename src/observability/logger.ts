// The process logger: pino JSON lines, with secrets redacted by path.
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** Paths whose values never reach a log line. */
const REDACT = [
  'password',
  '*.password',
  'req.headers.authorization',
  'req.headers.cookie',
  'databaseUrl',
  '*.databaseUrl',
  'url',
  '*.connectionString',
];

/** Creates the logger; level 'silent' for tests. */
export function createLogger(level: string = 'info', destination?: DestinationStream): Logger {
  const options = { level, redact: { paths: REDACT, censor: '[redacted]' }, base: { service: 'pgpress' } };
  return destination ? pino(options, destination) : pino(options);
}
