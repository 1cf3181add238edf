// The tracing SDK, assembled from its parts rather than @opentelemetry/sdk-node: NodeSDK imports every exporter it
// could use (OTLP over three protocols for traces, metrics and logs, Prometheus, Zipkin, B3...) whether configured or
// not, about 20 MB of heap per process (issue 7's memory target). Here only the trace exporter the environment names
// is loaded. The standard variables keep their meaning:
//   OTEL_SDK_DISABLED, OTEL_TRACES_EXPORTER (otlp | console | none), OTEL_EXPORTER_OTLP_PROTOCOL (http/protobuf,
//   the spec's default | http/json | grpc), OTEL_EXPORTER_OTLP[_TRACES]_ENDPOINT and _HEADERS (read by the exporter),
//   OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER[_ARG], OTEL_PROPAGATORS (tracecontext,
//   baggage), OTEL_BSP_SCHEDULE_DELAY / OTEL_BSP_MAX_EXPORT_BATCH_SIZE / OTEL_BSP_MAX_QUEUE_SIZE / OTEL_BSP_EXPORT_TIMEOUT.
// Metrics and logs go through prom-client and pino, not OpenTelemetry, so OTEL_METRICS_EXPORTER / OTEL_LOGS_EXPORTER
// have nothing to configure.
import { context, propagation, trace, type TextMapPropagator } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { GrpcInstrumentation } from '@opentelemetry/instrumentation-grpc';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler, AlwaysOnSampler, BatchSpanProcessor, ConsoleSpanExporter, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider,
  type Sampler, type SpanExporter,
} from '@opentelemetry/sdk-trace';

/** What the instrumentations below patch: the only modules the loader hook wraps. */
export const INSTRUMENTED_MODULES = ['pg', '@grpc/grpc-js', 'http', 'https', 'node:http', 'node:https'] as const;

let provider: TracerProvider | undefined;
let started = false;

type Env = Record<string, string | undefined>;

/** OTEL_TRACES_SAMPLER / _ARG as the specification defines them; unknown names fall back to the default. */
export function samplerFromEnv(env: Env = process.env): Sampler {
  const ratio = () => {
    const n = Number(env.OTEL_TRACES_SAMPLER_ARG ?? '1');
    return Number.isFinite(n) && n >= 0 && n <= 1 ? n : 1;
  };
  switch ((env.OTEL_TRACES_SAMPLER ?? 'parentbased_always_on').trim().toLowerCase()) {
    case 'always_on': return new AlwaysOnSampler();
    case 'always_off': return new AlwaysOffSampler();
    case 'traceidratio': return new TraceIdRatioBasedSampler(ratio());
    case 'parentbased_always_off': return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio': return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio()) });
    default: return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

/** OTEL_PROPAGATORS: W3C trace context and baggage (the default is both); anything else is not supported here. */
export function propagatorFromEnv(env: Env = process.env): TextMapPropagator {
  const names = (env.OTEL_PROPAGATORS ?? 'tracecontext,baggage').split(',').map((s) => s.trim().toLowerCase());
  const propagators: TextMapPropagator[] = [];
  if (names.includes('tracecontext')) propagators.push(new W3CTraceContextPropagator());
  if (names.includes('baggage')) propagators.push(new W3CBaggagePropagator());
  return new CompositePropagator({ propagators });
}

/** The configured trace exporter, loaded only when used; undefined for `none` (spans are then never recorded). */
async function exporterFromEnv(env: Env = process.env): Promise<SpanExporter | undefined> {
  const kind = (env.OTEL_TRACES_EXPORTER ?? 'otlp').split(',')[0]!.trim().toLowerCase();
  if (kind === 'none' || kind === '') return undefined;
  if (kind === 'console') return new ConsoleSpanExporter();
  const protocol = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf').trim();
  if (protocol === 'http/json') return new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter();
  if (protocol === 'grpc') return new (await import('@opentelemetry/exporter-trace-otlp-grpc')).OTLPTraceExporter();
  return new (await import('@opentelemetry/exporter-trace-otlp-proto')).OTLPTraceExporter();
}

function positive(value: string | undefined): number | undefined {
  const n = Number(value);
  return value !== undefined && Number.isFinite(n) && n > 0 ? n : undefined;
}

/**
 * Starts tracing: context manager, propagator, the instrumentations of pg, @grpc/grpc-js and http, and a tracer
 * provider with the configured exporter. With no exporter no provider is registered: spans cost nothing, and the
 * incoming trace context is still passed on (the propagator works without one).
 */
export async function startTelemetry(): Promise<void> {
  if (started || process.env.OTEL_SDK_DISABLED === 'true') return;
  started = true;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(propagatorFromEnv());
  const exporter = await exporterFromEnv();
  if (exporter) {
    provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': process.env.OTEL_SERVICE_NAME ?? 'unknown_service:node' }).merge(detectResources({ detectors: [envDetector] })),
      sampler: samplerFromEnv(),
      spanProcessors: [new BatchSpanProcessor({
        exporter,
        scheduledDelayMillis: positive(process.env.OTEL_BSP_SCHEDULE_DELAY),
        maxExportBatchSize: positive(process.env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE),
        maxQueueSize: positive(process.env.OTEL_BSP_MAX_QUEUE_SIZE),
        exportTimeoutMillis: positive(process.env.OTEL_BSP_EXPORT_TIMEOUT),
      })],
    });
    trace.setGlobalTracerProvider(provider);
  }
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => ['/healthz', '/readyz', '/metrics'].includes(req.url ?? ''),
      }),
      new GrpcInstrumentation({ ignoreGrpcMethods: ['Check', 'Watch'] }),
      // Database spans are only worth their cost when they are exported; http and gRPC stay instrumented either way
      // because they carry the trace context on to the next service.
      ...(provider ? [new PgInstrumentation({ requireParentSpan: true })] : []),
    ],
  });
}

/** Flushes and stops the SDK; called last in graceful shutdown so the final spans are exported. */
export async function stopTelemetry(): Promise<void> {
  await provider?.shutdown().catch(() => undefined);
  provider = undefined;
}
