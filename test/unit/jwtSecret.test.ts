// The generated JWT secret is created once, whoever asks first: servers started together on a
// fresh data folder (the api bench's three, several `npm start`s) all get the same secret.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const MODULE = resolve('src/security/jwtSecret.ts');

function resolveIn(dir: string): Promise<{ code: number | null; out: string; err: string }> {
  const script = `const { resolveJwtSecret } = await import(${JSON.stringify(MODULE)}); process.stdout.write(resolveJwtSecret(undefined, ${JSON.stringify(dir)}));`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d));
  child.stderr.on('data', (d: Buffer) => (err += d));
  return new Promise((r) => child.on('exit', (code) => r({ code, out, err })));
}

test('processes racing on a fresh data folder all get the one secret written there', async () => {
  for (let round = 0; round < 2; round++) {
    const dir = join(mkdtempSync(join(tmpdir(), 'pgpress-jwt-')), 'data');
    try {
      const results = await Promise.all(Array.from({ length: 8 }, () => resolveIn(dir)));
      for (const r of results) assert.equal(r.code, 0, r.err);
      const stored = readFileSync(join(dir, 'jwt-secret'), 'utf8').trim();
      assert.ok(stored.length >= 32);
      assert.deepEqual(new Set(results.map((r) => r.out)), new Set([stored]));
      assert.equal(statSync(join(dir, 'jwt-secret')).mode & 0o777, 0o600);
    } finally {
      rmSync(resolve(dir, '..'), { recursive: true, force: true });
    }
  }
});
