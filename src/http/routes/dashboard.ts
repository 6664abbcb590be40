// GET /dashboard: a live dashboard page for a user without Grafana. Static files, no build step:
// the page (dashboard/ at the package root) polls GET /metrics and draws with uPlot, which is
// served from its npm package. Files are read once per process, when the first app registers them.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

// dashboard/ sits at the package root: three levels up from src/http/routes and dist/http/routes alike.
const DASHBOARD_DIR = fileURLToPath(new URL('../../../dashboard/', import.meta.url));

/** The files the page is made of: URL path → [file, content type]. */
function assets(): Record<string, [string, string]> {
  const uplot = (f: string): string => createRequire(import.meta.url).resolve(`uplot/dist/${f}`);
  return {
    '/dashboard': [`${DASHBOARD_DIR}index.html`, 'text/html; charset=utf-8'],
    '/dashboard/app.js': [`${DASHBOARD_DIR}app.js`, 'text/javascript; charset=utf-8'],
    '/dashboard/promText.js': [`${DASHBOARD_DIR}promText.js`, 'text/javascript; charset=utf-8'],
    '/dashboard/style.css': [`${DASHBOARD_DIR}style.css`, 'text/css; charset=utf-8'],
    '/dashboard/uPlot.iife.min.js': [uplot('uPlot.iife.min.js'), 'text/javascript; charset=utf-8'],
    '/dashboard/uPlot.min.css': [uplot('uPlot.min.css'), 'text/css; charset=utf-8'],
  };
}

let loaded: [path: string, body: Buffer, type: string][] | undefined;

/** Registers GET /dashboard and its static files. */
export async function dashboardRoutes(app: FastifyInstance): Promise<void> {
  loaded ??= Object.entries(assets()).map(([path, [file, type]]) => [path, readFileSync(file), type]);
  for (const [path, body, type] of loaded) {
    app.get(path, { schema: { hide: true } }, (_req, reply) => {
      void reply.type(type).header('cache-control', 'no-cache').send(body);
    });
  }
}
