// Baseline server for the api scenario: bare Fastify + pg, the same named query through pg's
// fastest path (a pg.Query with a callback, as the Cluster sends it), nothing else.
import Fastify from 'fastify';
import pg from 'pg';
import { articleById } from '../../src/content/articles/queries.ts';
import { queryRows } from '../barePg.ts';
import { serveForParent } from './serverProcess.ts';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DB_POOL_MAX ?? 16) });
pool.on('error', () => undefined); // the database is dropped WITH (FORCE) at the end
const app = Fastify();
app.get<{ Params: { id: string } }>('/v1/articles/:id', async (req, reply) => {
  const rows = await queryRows(pool, articleById, [Number(req.params.id)]);
  if (!rows[0]) return reply.status(404).send({ code: 'PGP_NOT_FOUND' });
  return rows[0];
});
await app.listen({ host: '127.0.0.1', port: 0 });
const { port } = app.server.address() as { port: number };
serveForParent(`http://127.0.0.1:${port}`, () => app.close().then(() => pool.end()));
