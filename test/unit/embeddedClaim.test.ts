// The claim file of an embedded data directory: who holds it, and its port once PostgreSQL is up.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claimDataDir, liveClaim } from '../../src/db/embeddedClaim.ts';
import { isPgpressError } from '../../src/errors/index.ts';

const root = mkdtempSync(join(tmpdir(), 'pgpress-claim-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('a claim names this process, then its port; released, the file is gone', () => {
  const claim = claimDataDir(root);
  assert.equal(readFileSync(join(root, 'serve.pid'), 'utf8'), `${process.pid}\n`);
  claim.recordPort(54329);
  assert.equal(readFileSync(join(root, 'serve.pid'), 'utf8'), `${process.pid}\n54329\n`);
  assert.equal(liveClaim(root), undefined, 'this process is not "another" holder');
  claim.release();
  assert.throws(() => readFileSync(join(root, 'serve.pid')), /ENOENT/);
});

test('a live holder is reported with its port, and refuses a second claim', () => {
  writeFileSync(join(root, 'serve.pid'), `${process.ppid}\n`);
  assert.deepEqual(liveClaim(root), { pid: process.ppid, port: undefined }, 'starting: no port yet');
  writeFileSync(join(root, 'serve.pid'), `${process.ppid}\n6543\n`);
  assert.deepEqual(liveClaim(root), { pid: process.ppid, port: 6543 });
  assert.throws(() => claimDataDir(root), (e) => isPgpressError(e) && e.code === 'PGP_EMBEDDED_START_FAILED' && e.details?.heldBy === process.ppid);
  rmSync(join(root, 'serve.pid'));
});

test('a dead holder\'s claim is stale: not reported, and taken over', () => {
  writeFileSync(join(root, 'serve.pid'), '2147483646\n6543\n');
  assert.equal(liveClaim(root), undefined);
  const claim = claimDataDir(root);
  assert.equal(readFileSync(join(root, 'serve.pid'), 'utf8'), `${process.pid}\n`);
  claim.release();
});
