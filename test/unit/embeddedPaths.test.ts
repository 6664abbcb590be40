// Where the embedded cluster lives when pgpress runs as root below a folder postgres cannot enter.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { serverPaths } from '../../src/db/embeddedPaths.ts';

const isRoot = userInfo().uid === 0;
const owner = isRoot
  ? { uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })) }
  : undefined;

test('a data directory the server user can reach keeps its cluster in place', () => {
  const open = mkdtempSync(join(tmpdir(), 'pgpress-paths-open-'));
  after(() => rmSync(open, { recursive: true, force: true }));
  execFileSync('chmod', ['755', open]);
  const root = join(open, '.pgpress');
  mkdirSync(root);
  const warnings: string[] = [];
  assert.deepEqual(serverPaths(root, owner, (m) => warnings.push(m)), { pgdata: join(root, 'pg'), logFile: join(root, 'postgres.log') });
  assert.deepEqual(warnings, []);
});

test('below a folder the server user cannot enter, the cluster moves to /var/lib/pgpress and is linked back', () => {
  const closed = mkdtempSync(join(tmpdir(), 'pgpress-paths-closed-')); // mode 700, owned by this user
  const root = join(closed, '.pgpress');
  mkdirSync(root);
  const warnings: string[] = [];
  const paths = serverPaths(root, owner, (m) => warnings.push(m));
  after(() => {
    rmSync(closed, { recursive: true, force: true });
    if (paths.pgdata !== join(root, 'pg')) rmSync(dirname(paths.pgdata), { recursive: true, force: true });
  });
  if (!isRoot) {
    // Not root: PostgreSQL runs as this user, who can enter its own folder.
    assert.equal(paths.pgdata, join(root, 'pg'));
    return;
  }
  assert.match(paths.pgdata, /^\/var\/lib\/pgpress\/[0-9a-f]{16}\/pg$/);
  assert.ok(lstatSync(join(root, 'pg')).isSymbolicLink());
  assert.equal(readlinkSync(join(root, 'pg')), paths.pgdata);
  assert.equal(statSync(dirname(paths.pgdata)).uid, owner!.uid);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /cannot enter .*: the cluster lives in \/var\/lib\/pgpress\//);
  assert.deepEqual(serverPaths(root, owner, () => undefined), paths, 'the same folder on the next start');
});
