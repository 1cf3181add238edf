// Every API call the simulator saw, so tests can assert how many calls were made and how they ended.
import type { FaultKind } from './fault-injector.ts';

export interface RequestLogEntry {
  seq: number;
  time: string;
  httpMethod: string;
  path: string;
  // null while unanswered; stays null for a request held by a timeout fault.
  status: number | null;
  fault: FaultKind | null;
  durationMs: number | null;
}

export class RequestLog {
  #entries: RequestLogEntry[] = [];
  #seq = 0;
  #started = new Map<RequestLogEntry, number>();

  record(httpMethod: string, path: string, now: Date): RequestLogEntry {
    this.#seq += 1;
    const entry: RequestLogEntry = { seq: this.#seq, time: now.toISOString(), httpMethod, path, status: null, fault: null, durationMs: null };
    this.#entries.push(entry);
    this.#started.set(entry, performance.now());
    return entry;
  }

  finish(entry: RequestLogEntry, status: number): void {
    entry.status = status;
    const started = this.#started.get(entry);
    entry.durationMs = started === undefined ? null : Math.round(performance.now() - started);
    this.#started.delete(entry);
  }

  list(path?: string): RequestLogEntry[] {
    const wanted = path?.replace(/^\/+/, '').toLowerCase();
    return this.#entries.filter((e) => wanted === undefined || e.path.toLowerCase() === wanted).map((e) => ({ ...e }));
  }

  count(path?: string): number {
    return this.list(path).length;
  }

  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const e of this.#entries) out[e.path] = (out[e.path] ?? 0) + 1;
    return out;
  }

  clear(): void {
    this.#entries = [];
    this.#seq = 0;
    this.#started.clear();
  }
}
