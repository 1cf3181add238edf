import type { Server } from 'node:http';
import { collectDefaultMetrics, register } from 'prom-client';

export type ReadinessCheck = () => Promise<void> | void;

let defaultMetrics = false;

/** The ops port: liveness, readiness (every check passes and we are not draining) and Prometheus metrics. */
export async function startOpsServer(opts: { host: string; port: number; checks: Record<string, ReadinessCheck>; isDraining: () => boolean }): Promise<{ server: Server; port: number }> {
  if (!defaultMetrics) {
    collectDefaultMetrics();
    defaultMetrics = true;
  }
  // Not `import { createServer } from 'node:http'`: an ES import of node:http builds its namespace from every export,
  // and reading http.WebSocket loads Node's bundled undici (~13 MB resident, docs/hot-path.md, memory).
  const { createServer } = process.getBuiltinModule('node:http');
  const server = createServer(async (req, res) => {
    if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    if (req.url === '/readyz') {
      const failures: Record<string, string> = {};
      if (opts.isDraining()) failures.shutdown = 'draining';
      await Promise.all(
        Object.entries(opts.checks).map(async ([name, check]) => {
          try {
            await check();
          } catch (err) {
            failures[name] = String((err as Error)?.message ?? err);
          }
        }),
      );
      const ok = Object.keys(failures).length === 0;
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(ok ? { status: 'ready' } : { status: 'not_ready', failures }));
      return;
    }
    if (req.url === '/metrics') {
      res.writeHead(200, { 'content-type': register.contentType }).end(await register.metrics());
      return;
    }
    res.writeHead(404).end();
  });
  const port = await new Promise<number>((resolve) => server.listen(opts.port, opts.host, () => resolve((server.address() as { port: number }).port)));
  return { server, port };
}
