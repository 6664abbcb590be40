// The replicas scenario (a primary and two streaming replicas of its own) runs end to end at a tiny
// scale: its ratios clear their floors and no read is stale (smokeCases.ts).
import { test } from 'node:test';
import { smokeRun } from './smokeCases.ts';

test('`npm run bench -- replicas` runs at a tiny scale, clears its floors and reads nothing stale', (t) => smokeRun('replicas', t));
