import { propagation, trace, context, TraceFlags } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { contextFromTraceparent, currentTraceparent, extractTraceContext, injectTraceHeaders, type HeaderCarrier } from '../src/propagation.ts';

class Headers implements HeaderCarrier {
  readonly map = new Map<string, string>();
  get(k: string) { return this.map.get(k) ?? ''; }
  set(k: string, v: string) { this.map.set(k, v); }
  keys() { return [...this.map.keys()]; }
}

const parent = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.SAMPLED };

beforeAll(() => propagation.setGlobalPropagator(new W3CTraceContextPropagator()));

describe('trace context in message headers', () => {
  it('injects a W3C traceparent and extracts it back', () => {
    const h = new Headers();
    injectTraceHeaders(h, trace.setSpanContext(context.active(), parent));
    expect(h.get('traceparent')).toBe(`00-${parent.traceId}-${parent.spanId}-01`);
    expect(trace.getSpanContext(extractTraceContext(h))).toMatchObject({ traceId: parent.traceId, spanId: parent.spanId });
  });
  it('finds the header whatever its case', () => {
    const h = new Headers();
    h.set('TraceParent', `00-${parent.traceId}-${parent.spanId}-01`);
    expect(trace.getSpanContext(extractTraceContext(h))?.traceId).toBe(parent.traceId);
  });
  it('round-trips a bare traceparent as stored on an outbox row', () => {
    const tp = currentTraceparent(trace.setSpanContext(context.active(), parent));
    expect(tp).toBe(`00-${parent.traceId}-${parent.spanId}-01`);
    expect(trace.getSpanContext(contextFromTraceparent(tp))?.spanId).toBe(parent.spanId);
    expect(contextFromTraceparent(null)).toBe(context.active());
  });
});
