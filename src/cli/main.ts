// The CLI: commander commands, each parsing its input and calling one library function.
import { Command } from 'commander';
import { loadSettings } from '../config/settings.ts';
import { isPgpressError } from '../errors/index.ts';
import { migrateCommand } from './migrate.ts';
import { tokenCommand } from './token.ts';
import { seedCommand } from './seed.ts';
import { maintainCommand } from './maintain.ts';
import { tuneCommand } from './tune.ts';
import { migrateEventsCommand } from './migrateEvents.ts';
import { schedulerCommand } from './scheduler.ts';
import { jobsCommand } from './jobs.ts';
import { backupCommand } from './backup.ts';
import { restoreCommand } from './restore.ts';
import { dumpCommands } from './dump.ts';
import { benchCommand } from './bench.ts';
import { auditCommand } from './audit.ts';
import { keysCommand } from './keys.ts';

// A reader that stops early (`pgpress migrate status | head`) closes the pipe. The command still
// finishes its work — a migration is not cut short by its output — and keeps its exit code; what
// it would have printed is dropped instead of crashing the process on EPIPE.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE' && e.code !== 'ERR_STREAM_DESTROYED') throw e;
});

const program = new Command()
  .name('pgpress')
  .description('PostgreSQL storage platform for content applications')
  .showHelpAfterError()
  // Without this `migrate up --to 1` would hand --to to `migrate`, and `up` would apply everything.
  .enablePositionalOptions();

// serve, doctor and bench load their modules (the HTTP stack, the scenarios) when they run, not at
// every start: a `migrate` or `backup` starts in about half the CPU time.
program
  .command('serve')
  .description('start the HTTP API (and an embedded PostgreSQL when DATABASE_URL is unset)')
  .action(async () => (await import('./serve.ts')).serveCommand(loadSettings()));
migrateCommand(program, loadSettings);
program
  .command('token')
  .description('mint a bearer token for development (signed with JWT_SECRET or the generated secret)')
  .requiredOption('--user <id>', 'user id the token acts as')
  .option('--role <role>', 'author, editor or admin', 'author')
  .option('--ttl <seconds>', 'lifetime in seconds', '3600')
  .action((opts: { user: string; role: string; ttl: string }) => tokenCommand(loadSettings(), opts));
seedCommand(program, loadSettings);
maintainCommand(program, loadSettings);
tuneCommand(program, loadSettings);
migrateEventsCommand(program, loadSettings);
schedulerCommand(program, loadSettings);
jobsCommand(program, loadSettings);
backupCommand(program, loadSettings);
restoreCommand(program, loadSettings);
dumpCommands(program, loadSettings);
benchCommand(program, loadSettings);
auditCommand(program, loadSettings);
keysCommand(program, loadSettings);
program
  .command('doctor')
  .description('check the database and the migrations, print the health figures /metrics serves, and what is wrong')
  .option('--json', 'print everything as one JSON object')
  .action(async (o: { json?: boolean }) => (await import('./doctor.ts')).doctorCommand(loadSettings(), { json: o.json === true }));

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (isPgpressError(e)) {
    process.stderr.write(`pgpress: ${e.code}: ${e.message}\n`);
  } else {
    process.stderr.write(`pgpress: unexpected error: ${(e as Error).stack ?? String(e)}\n`);
  }
  process.exitCode = 1;
}
