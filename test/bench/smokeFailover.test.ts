// The checkout's failover scenario (two Patroni clusters, a kill -9 and a switchover under writes)
// runs end to end at a tiny scale and loses no acknowledged write (smokeCases.ts), in a file of its
// own: beside smoke.test.ts's other scenarios it took that file past the runner's 300 s per file
// on a loaded machine.
import { test } from 'node:test';
import { smokeRun } from './smokeCases.ts';

test('`npm run bench -- failover` runs at a tiny scale: no acknowledged write lost, no failed one committed, the switchover retried cleanly', (t) => smokeRun('failover', t));
