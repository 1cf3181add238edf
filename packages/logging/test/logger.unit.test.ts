import { Writable } from 'node:stream';
import { context, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/index.ts';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({ write(chunk, _enc, cb) { lines.push(JSON.parse(String(chunk))); cb(); } });
  return { lines, stream };
}

describe('createLogger', () => {
  it('redacts secrets at any of the first levels', () => {
    const { lines, stream } = capture();
    const log = createLogger('test', 'info', stream);
    log.info({ apiKey: 'k1', integration: { api_key: 'k2', credentials: { authToken: 'k3' } }, req: { headers: { authorization: 'Basic abc' } } }, 'hello');
    const text = JSON.stringify(lines[0]);
    for (const secret of ['k1', 'k2', 'Basic abc']) expect(text).not.toContain(secret);
    expect(text).toContain('[redacted]');
  });
  it('puts the active trace and span ids on every line', () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    const { lines, stream } = capture();
    const log = createLogger('test', 'info', stream);
    const spanContext = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED };
    context.with(trace.setSpanContext(context.active(), spanContext), () => log.info('inside'));
    log.info('outside');
    expect(lines[0]).toMatchObject({ trace_id: spanContext.traceId, span_id: spanContext.spanId, service: 'test' });
    expect(lines[1]!.trace_id).toBeUndefined();
  });
});
