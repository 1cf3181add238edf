import { context, propagation, type Context, type TextMapGetter, type TextMapSetter } from '@opentelemetry/api';

/** The minimal header surface our NATS wrapper and outbox need (nats.js MsgHdrs satisfies it). */
export interface HeaderCarrier {
  get(key: string): string;
  set(key: string, value: string): void;
  keys(): string[];
}

const setter: TextMapSetter<HeaderCarrier> = { set: (carrier, key, value) => carrier.set(key, value) };

// NATS headers are case-sensitive on the wire, but W3C says `traceparent` is case-insensitive: look it up either way.
const getter: TextMapGetter<HeaderCarrier> = {
  keys: (carrier) => carrier.keys(),
  get: (carrier, key) => {
    const exact = carrier.get(key);
    if (exact) return exact;
    const wanted = key.toLowerCase();
    const found = carrier.keys().find((k) => k.toLowerCase() === wanted);
    return found ? carrier.get(found) || undefined : undefined;
  },
};

export function injectTraceHeaders(carrier: HeaderCarrier, ctx: Context = context.active()): void {
  propagation.inject(ctx, carrier, setter);
}

export function extractTraceContext(carrier: HeaderCarrier, base: Context = context.active()): Context {
  return propagation.extract(base, carrier, getter);
}

/** Builds a context from a bare `traceparent` string (as stored on an outbox row). */
export function contextFromTraceparent(traceparent: string | null | undefined, base: Context = context.active()): Context {
  if (!traceparent) return base;
  return propagation.extract(base, { traceparent }, {
    keys: (c) => Object.keys(c),
    get: (c, k) => c[k as keyof typeof c],
  });
}

/** The active context's `traceparent`, for storing on an outbox row. */
export function currentTraceparent(ctx: Context = context.active()): string | null {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier.traceparent ?? null;
}
