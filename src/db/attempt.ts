// Marks where an attempt failed (before anything reached the server, during a statement, or at
// COMMIT), which decides whether it may be retried and whether its outcome is unknown.
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

/** The underlying error and its stage ('during' when unknown). */
export function unwrapAttempt(e: unknown): { stage: FailureStage; error: unknown } {
  return e instanceof AttemptFailure ? { stage: e.stage, error: e.error } : { stage: 'during', error: e };
}
