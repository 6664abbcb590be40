// Baseline server for the api scenario: bare Fastify + pg, the same query, nothing else.
import Fastify from 'fastify';
import pg from 'pg';
import { articleById } from '../../src/content/articles/queries.ts';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DB_POOL_MAX ?? 16) });
const app = Fastify();
app.get<{ Params: { id: string } }>('/v1/articles/:id', async (req, reply) => {
  const { rows } = await pool.query({ name: articleById.name, text: articleById.text, values: [Number(req.params.id)] });
  if (!rows[0]) return reply.status(404).send({ code: 'PGP_NOT_FOUND' });
  return rows[0];
});
await app.listen({ host: '127.0.0.1', port: 0 });
const { port } = app.server.address() as { port: number };
console.log(`listening http://127.0.0.1:${port}`);
process.once('SIGTERM', () => void app.close().then(() => pool.end()).then(() => process.exit(0)));
