// The README documents every setting and every error code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { settingsSchema } from '../../src/config/settings.ts';
import { ERROR_CATALOGUE } from '../../src/errors/index.ts';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

test('every setting is documented in the README', () => {
  const missing = Object.keys(settingsSchema.shape).filter((k) => !readme.includes(`\`${k}\``));
  assert.deepEqual(missing, []);
});

test('every error code is documented in the README with its status', () => {
  const missing = Object.entries(ERROR_CATALOGUE)
    .filter(([code, { status }]) => !new RegExp(`\\|\\s*\`${code}\`\\s*\\|\\s*${status}\\s*\\|`).test(readme))
    .map(([code]) => code);
  assert.deepEqual(missing, []);
});
