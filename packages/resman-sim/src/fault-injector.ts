// Fault injection: rules that make the next requests slow, hang, fail or come back corrupted,
// so the connector's retry, backoff and timeout paths can be exercised deterministically.
import { randomUUID } from 'node:crypto';

export type FaultKind = 'latency' | 'timeout' | 'http500' | 'http503' | 'http429' | 'malformed';

export const FAULT_KINDS: readonly FaultKind[] = ['latency', 'timeout', 'http500', 'http503', 'http429', 'malformed'];

export interface FaultScope {
  // Method path the rule applies to, e.g. "MITS/PostLeadManagement4_0" or "/Prospects"; every API call when absent.
  path?: string;
  // Chance (0..1) that a matching request is hit; 1 when absent.
  probability?: number;
  // Fire on the next N hits, then expire; never expires when absent.
  times?: number;
  // Whether the request still takes effect before the fault (default: only for "malformed").
  // A timeout that committed is what real ResMan does under load, and what makes retries duplicate.
  commit?: boolean;
}

export interface FaultRuleSpec extends FaultScope {
  kind: FaultKind;
  latencyMs?: number;
  retryAfterSeconds?: number;
}

export interface FaultRule extends FaultRuleSpec {
  id: string;
  fired: number;
}

// What to do with one request: total added latency plus at most one failing fault.
export interface FaultDecision {
  latencyMs: number;
  fault: FaultRule | null;
}

const normalizePath = (path: string): string => path.replace(/^\/+/, '').replace(/\/+$/, '').toLowerCase();

export function validateFaultSpec(spec: unknown): FaultRuleSpec {
  if (typeof spec !== 'object' || spec === null) throw new Error('fault must be an object');
  const s = spec as Record<string, unknown>;
  if (!FAULT_KINDS.includes(s['kind'] as FaultKind)) throw new Error(`fault kind must be one of ${FAULT_KINDS.join(', ')}`);
  const out: FaultRuleSpec = { kind: s['kind'] as FaultKind };
  if (s['path'] !== undefined) {
    if (typeof s['path'] !== 'string') throw new Error('path must be a string');
    out.path = s['path'];
  }
  for (const key of ['probability', 'times', 'latencyMs', 'retryAfterSeconds'] as const) {
    const value = s[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new Error(`${key} must be a non-negative number`);
    out[key] = value;
  }
  if (out.probability !== undefined && out.probability > 1) throw new Error('probability must be within 0..1');
  if (s['commit'] !== undefined) {
    if (typeof s['commit'] !== 'boolean') throw new Error('commit must be a boolean');
    out.commit = s['commit'];
  }
  if (out.kind === 'latency' && out.latencyMs === undefined) throw new Error('latency needs latencyMs');
  return out;
}

export class FaultInjector {
  #rules: FaultRule[] = [];
  #random: () => number;

  constructor(random: () => number = Math.random) {
    this.#random = random;
  }

  add(spec: FaultRuleSpec): FaultRule {
    const rule: FaultRule = { ...validateFaultSpec(spec), id: randomUUID(), fired: 0 };
    this.#rules.push(rule);
    return rule;
  }

  latency(latencyMs: number, scope: FaultScope = {}): FaultRule {
    return this.add({ ...scope, kind: 'latency', latencyMs });
  }

  timeout(scope: FaultScope = {}): FaultRule {
    return this.add({ ...scope, kind: 'timeout' });
  }

  serverError(status: 500 | 503, scope: FaultScope = {}): FaultRule {
    return this.add({ ...scope, kind: status === 500 ? 'http500' : 'http503' });
  }

  rateLimit(retryAfterSeconds: number, scope: FaultScope = {}): FaultRule {
    return this.add({ ...scope, kind: 'http429', retryAfterSeconds });
  }

  malformed(scope: FaultScope = {}): FaultRule {
    return this.add({ ...scope, kind: 'malformed' });
  }

  remove(id: string): boolean {
    const before = this.#rules.length;
    this.#rules = this.#rules.filter((r) => r.id !== id);
    return this.#rules.length !== before;
  }

  clear(): void {
    this.#rules = [];
  }

  list(): FaultRule[] {
    return this.#rules.map((r) => ({ ...r }));
  }

  // Consumes one use of every rule that fires; latencies add up, the first failing rule wins.
  decide(path: string): FaultDecision {
    const target = normalizePath(path);
    const decision: FaultDecision = { latencyMs: 0, fault: null };
    for (const rule of this.#rules) {
      if (rule.path !== undefined && normalizePath(rule.path) !== target) continue;
      if (rule.kind !== 'latency' && decision.fault !== null) continue;
      if (rule.probability !== undefined && this.#random() >= rule.probability) continue;
      rule.fired += 1;
      if (rule.kind === 'latency') decision.latencyMs += rule.latencyMs ?? 0;
      else decision.fault = { ...rule };
    }
    this.#rules = this.#rules.filter((r) => r.times === undefined || r.fired < r.times);
    return decision;
  }
}
