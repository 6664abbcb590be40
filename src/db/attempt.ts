// Marks where an attempt failed (before anything reached the server, during a statement, or at
// COMMIT), which decides whether it may be retried and whether its outcome is unknown.
import { isPgpressError } from '../errors/index.ts';
import type { FailureStage } from './retryPolicy.ts';

/** An attempt's failure with its stage; the retry loop unwraps it. */
export class AttemptFailure extends Error {
  constructor(
    readonly stage: FailureStage,
    readonly error: unknown,
  ) {
    super(error instanceof Error ? error.message : String(error));
    this.name = 'AttemptFailure';
  }
}

/**
 * The underlying error and its stage. An open circuit rejects before the attempt runs, so it is
 * 'before' (nothing was sent); any other unmarked error is 'during' (the cautious answer).
 */
export function unwrapAttempt(e: unknown): { stage: FailureStage; error: unknown } {
  if (e instanceof AttemptFailure) return { stage: e.stage, error: e.error };
  return { stage: isPgpressError(e) && e.code === 'PGP_CIRCUIT_OPEN' ? 'before' : 'during', error: e };
}
