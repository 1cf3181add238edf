import { ROOT_CONTEXT, SpanKind, trace, TraceFlags, type SpanContext } from '@opentelemetry/api';
import { SamplingDecision } from '@opentelemetry/sdk-trace';
import { describe, expect, it } from 'vitest';
import { propagatorFromEnv, samplerFromEnv } from '../src/sdk.ts';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';

function decide(env: Record<string, string>, parent?: Partial<SpanContext>): SamplingDecision {
  const ctx = parent ? trace.setSpanContext(ROOT_CONTEXT, { traceId: TRACE_ID, spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.NONE, isRemote: true, ...parent }) : ROOT_CONTEXT;
  return samplerFromEnv(env).shouldSample(ctx, TRACE_ID, 'span', SpanKind.SERVER, {}, []).decision;
}

describe('samplerFromEnv (OTEL_TRACES_SAMPLER as the specification defines it)', () => {
  it('defaults to parent-based always-on: a root is sampled, an unsampled parent is followed', () => {
    expect(decide({})).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(decide({}, { traceFlags: TraceFlags.NONE })).toBe(SamplingDecision.NOT_RECORD);
    expect(decide({}, { traceFlags: TraceFlags.SAMPLED })).toBe(SamplingDecision.RECORD_AND_SAMPLED);
  });

  it('always_off and always_on ignore the parent', () => {
    expect(decide({ OTEL_TRACES_SAMPLER: 'always_off' }, { traceFlags: TraceFlags.SAMPLED })).toBe(SamplingDecision.NOT_RECORD);
    expect(decide({ OTEL_TRACES_SAMPLER: 'always_on' }, { traceFlags: TraceFlags.NONE })).toBe(SamplingDecision.RECORD_AND_SAMPLED);
  });

  it('parentbased_traceidratio uses the ratio for roots only (0 samples no root, a sampled parent still counts)', () => {
    const env = { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0' };
    expect(decide(env)).toBe(SamplingDecision.NOT_RECORD);
    expect(decide(env, { traceFlags: TraceFlags.SAMPLED })).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(decide({ ...env, OTEL_TRACES_SAMPLER_ARG: '1' })).toBe(SamplingDecision.RECORD_AND_SAMPLED);
  });

  it('an out-of-range ratio falls back to 1, as the specification asks for an invalid argument', () => {
    expect(decide({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '7' })).toBe(SamplingDecision.RECORD_AND_SAMPLED);
  });
});

describe('propagatorFromEnv (OTEL_PROPAGATORS)', () => {
  it('defaults to W3C trace context and baggage', () => {
    expect(propagatorFromEnv({}).fields().sort()).toEqual(['baggage', 'traceparent', 'tracestate']);
  });

  it('takes only what is named', () => {
    expect(propagatorFromEnv({ OTEL_PROPAGATORS: 'tracecontext' }).fields().sort()).toEqual(['traceparent', 'tracestate']);
  });
});
