// Baseline server for the cache scenario (it ships with `pgpress bench`): a bare Fastify hello-world route answering
// GET /v1/articles/:id with one fixed JSON body (BENCH_HELLO_JSON: a real article's answer).
import Fastify from 'fastify';
import { serveForParent } from './serverProcess.ts';

const body = JSON.parse(process.env.BENCH_HELLO_JSON ?? '{}') as Record<string, unknown>;
const app = Fastify();
app.get('/v1/articles/:id', async () => body);
await app.listen({ host: '127.0.0.1', port: 0 });
const { port } = app.server.address() as { port: number };
serveForParent(`http://127.0.0.1:${port}`, () => app.close());
