// What every route plugin receives.
import type { TokenService } from '../../security/tokens.ts';
import type { Store } from '../../store.ts';
import type { Idempotency } from '../idempotency/idempotentWrite.ts';

/** The store the routes call and the token service that authenticates writes. */
export interface RouteDeps {
  store: Store;
  tokens: TokenService;
  /** Idempotency-Key handling of the write routes. */
  idempotency: Idempotency;
}
