// Asks a person to confirm a deliberate action; without a terminal, only --yes confirms.
import { createInterface } from 'node:readline/promises';
import { PgpressError } from '../errors/index.ts';

/** Resolves when confirmed (--yes, or the expected answer typed on a TTY); throws PGP_VALIDATION otherwise. */
export async function confirm(question: string, expected: string, yes: boolean): Promise<void> {
  if (yes) return;
  if (!process.stdin.isTTY) {
    throw new PgpressError('PGP_VALIDATION', 'This needs confirmation and there is no terminal to ask on: pass --yes to confirm.');
  }
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = (await rl.question(`${question} Type ${JSON.stringify(expected)} to confirm: `)).trim();
    if (answer !== expected) throw new PgpressError('PGP_VALIDATION', 'Not confirmed; nothing was changed.');
  } finally {
    rl.close();
  }
}
