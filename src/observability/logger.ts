// The process logger: pino JSON lines (readable lines on a terminal), with secrets redacted by path.
import { pino, type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';

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

/** Creates the logger; level 'silent' for tests. Without a destination it writes to stdout:
 *  pino-pretty's readable lines when stdout is a terminal, JSON lines otherwise (files, pipes, collectors). */
export function createLogger(level: string = 'info', destination?: DestinationStream): Logger {
  const options = { level, redact: { paths: REDACT, censor: '[redacted]' }, base: { service: 'pgpress' } };
  if (destination) return pino(options, destination);
  // Synchronous: serve exits right after its last line ("stopped"), which must not be lost.
  return process.stdout.isTTY ? pino(options, pretty({ sync: true, singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' })) : pino(options);
}
