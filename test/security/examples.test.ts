// Every operation in /docs/json carries an example for each input (path, query, body), and the
// request built from them passes validation: a scanner or a person reading /docs can start there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testApp } from '../harness/testApp.ts';
import { exampleRequests, seedExampleRows, withQuery, type OpenApiDoc } from '../harness/scanners.ts';

test('each operation\'s example request is accepted by validation (never 400) and served (no 5xx)', async () => {
  const { app, store, owner, bearer } = await testApp();
  await seedExampleRows(store, owner);
  const doc = (await app.inject('/docs/json')).json() as OpenApiDoc;
  const requests = exampleRequests(doc);
  assert.ok(requests.length >= 18, `${requests.length} operations`);
  const without = requests.filter((r) => r.missing.length > 0).map((r) => `${r.operation}: ${r.missing.join(', ')}`);
  assert.deepEqual(without, [], 'every parameter and body has an example');
  const answers: string[] = [];
  for (const r of requests) {
    const res = await app.inject({
      method: r.method as 'GET',
      url: withQuery(r.path, r.query),
      headers: r.needsAuth ? { authorization: bearer(1) } : {},
      ...(r.body === undefined ? {} : { payload: r.body as object }),
    });
    answers.push(`${r.operation} ${res.statusCode}`);
    assert.notEqual(res.statusCode, 400, `${r.operation}: the example fails validation: ${res.body}`);
    assert.ok(res.statusCode < 500, `${r.operation}: ${res.statusCode} ${res.body}`);
  }
  // Most examples succeed outright; the rest meet the rows' state (a version already moved on).
  const ok = answers.filter((a) => / 2\d\d$/.test(a));
  assert.ok(ok.length >= requests.length - 4, `most examples succeed:\n${answers.join('\n')}`);
});
