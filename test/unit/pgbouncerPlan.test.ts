// The test command's PgBouncer decision: use it, install it (root with apt-get), or stop with the command.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { INSTALL_COMMAND, planPgbouncer } from '../harness/pgbouncer.ts';

test('an installed PgBouncer is used as found', () => {
  assert.deepEqual(planPgbouncer('/usr/sbin/pgbouncer', false, true), { action: 'use', path: '/usr/sbin/pgbouncer' });
});

test('missing, as root with apt-get: install it', () => {
  assert.deepEqual(planPgbouncer(undefined, true, true), { action: 'install' });
});

test('missing, not root: stop with the one command to run', () => {
  const plan = planPgbouncer(undefined, false, true);
  assert.equal(plan.action, 'stop');
  assert.ok(plan.action === 'stop' && plan.message.endsWith(`Run: ${INSTALL_COMMAND}`), JSON.stringify(plan));
});

test('missing, no apt-get: stop and say what to install', () => {
  const plan = planPgbouncer(undefined, true, false);
  assert.ok(plan.action === 'stop' && /install PgBouncer with your package manager/.test(plan.message), JSON.stringify(plan));
});
