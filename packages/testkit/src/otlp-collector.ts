import { createServer, type Server } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { freePort } from './ports.ts';

export interface CollectedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
}

function attrValue(v: Record<string, unknown> | undefined): unknown {
  if (!v) return undefined;
  return v.stringValue ?? v.intValue ?? v.boolValue ?? v.doubleValue ?? v.arrayValue;
}

/**
 * A minimal OTLP/HTTP receiver (the `http/json` protocol) that keeps spans in memory, so tests can assert
 * on real traces exported by real services, and the local stack can show them at GET /traces.
 */
export class OtlpCollector {
  readonly spans: CollectedSpan[] = [];
  readonly port: number;
  readonly #server: Server;

  private constructor(server: Server, port: number) {
    this.#server = server;
    this.port = port;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async start(port?: number): Promise<OtlpCollector> {
    const p = port ?? (await freePort());
    let collector: OtlpCollector | undefined;
    const server = createServer((req, res) => {
      if (req.method === 'GET' && req.url?.startsWith('/traces')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(collector!.traceSummaries(), null, 2));
        return;
      }
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.url === '/v1/traces') {
          try {
            let body = Buffer.concat(chunks);
            if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
            collector!.#ingest(JSON.parse(body.toString('utf8')));
          } catch {
            res.writeHead(400).end();
            return;
          }
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => server.listen(p, '127.0.0.1', () => r()));
    collector = new OtlpCollector(server, p);
    return collector;
  }

  #ingest(body: { resourceSpans?: Array<{ resource?: { attributes?: Array<{ key: string; value: Record<string, unknown> }> }; scopeSpans?: Array<{ spans?: Array<Record<string, any>> }> }> }): void {
    for (const rs of body.resourceSpans ?? []) {
      const service = String(attrValue(rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value) ?? 'unknown');
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          this.spans.push({
            service,
            traceId: s.traceId,
            spanId: s.spanId,
            parentSpanId: s.parentSpanId ?? '',
            name: s.name,
            kind: s.kind,
            attributes: Object.fromEntries((s.attributes ?? []).map((a: { key: string; value: Record<string, unknown> }) => [a.key, attrValue(a.value)])),
          });
        }
      }
    }
  }

  trace(traceId: string): CollectedSpan[] {
    return this.spans.filter((s) => s.traceId === traceId);
  }

  traceSummaries(): Array<{ traceId: string; services: string[]; spans: Array<{ service: string; name: string; spanId: string; parentSpanId: string }> }> {
    const byTrace = new Map<string, CollectedSpan[]>();
    for (const s of this.spans) byTrace.set(s.traceId, [...(byTrace.get(s.traceId) ?? []), s]);
    return [...byTrace.entries()].slice(-50).map(([traceId, spans]) => ({
      traceId,
      services: [...new Set(spans.map((s) => s.service))],
      spans: spans.map(({ service, name, spanId, parentSpanId }) => ({ service, name, spanId, parentSpanId })),
    }));
  }

  close(): Promise<void> {
    return new Promise((r) => this.#server.close(() => r()));
  }
}
