// Unit test: what the harness does about a missing Debian tool (promtool, prometheus, chromium).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planTool } from '../harness/debianTool.ts';

const promtool = { command: 'promtool', candidates: ['/usr/bin/promtool'], pkg: 'prometheus', neededBy: 'test/deploy' };

test('a found tool is used; a missing one is installed as root with apt-get; otherwise the one command to run', () => {
  assert.deepEqual(planTool(promtool, '/usr/bin/promtool', false, true), { action: 'use', path: '/usr/bin/promtool' });
  assert.deepEqual(planTool(promtool, undefined, true, true), { action: 'install' });
  const user = planTool(promtool, undefined, false, true);
  assert.equal(user.action, 'stop');
  assert.match((user as { message: string }).message, /promtool is not installed and test\/deploy need it\. Run: sudo apt-get install -y --no-install-recommends prometheus$/);
  const noApt = planTool(promtool, undefined, true, false);
  assert.match((noApt as { message: string }).message, /install the prometheus package/);
});
