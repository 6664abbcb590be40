// Ping: does a target answer a trivial statement? Bounded by the lease's deadline, which the lane
// enforces even against a frozen server (the connection is cancelled and closed).
import { mustDiscard } from './connectionRule.ts';
import type { Lane } from './lane.ts';

/** True when lane's server answers SELECT 1 within timeoutMs. */
export async function ping(lane: Lane, timeoutMs: number): Promise<boolean> {
  try {
    const lease = await lane.acquire(Date.now() + timeoutMs);
    try {
      await lease.client.query('SELECT 1');
      lease.release();
    } catch (e) {
      lease.release(mustDiscard(lease.expired, e));
      throw e;
    }
    return true;
  } catch {
    return false;
  }
}
