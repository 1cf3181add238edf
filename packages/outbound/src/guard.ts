// Outbound requests to tenant-configured URLs: https to public addresses only, unless DOMIQ_ALLOWED_TARGETS
// says otherwise. Checked when the URL is saved (checkUrl) and again on every new connection: the connector
// resolves the host itself, checks every address, and hands exactly those addresses to the socket, so a DNS
// answer that changes between the check and the connect (rebinding) cannot reach a refused address.
import { lookup as dnsLookup } from 'node:dns/promises';
import type { Agent as HttpAgent, AgentOptions, ClientRequestArgs, IncomingMessage } from 'node:http';
import { isIP, type LookupFunction, type Socket } from 'node:net';
import { classifyAddress, isIpLiteral } from './address.ts';
import { allowsAddress, allowsName, normaliseHost, parseAllowedTargets, type AllowList } from './allow-list.ts';

/** A target the policy refuses. Permanent: the same URL will be refused again, so callers must not retry. */
export class OutboundTargetRefusedError extends Error {
  override name = 'OutboundTargetRefusedError';
  readonly code = 'target_refused';
  readonly target: string;
  readonly reason: string;
  constructor(target: string, reason: string) {
    super(`outbound target ${target} refused: ${reason}`);
    this.target = target;
    this.reason = reason;
  }
}

export type Resolver = (host: string) => Promise<Array<{ address: string; family: number }>>;

export interface OutboundGuardOptions {
  /** DOMIQ_ALLOWED_TARGETS (string) or an already parsed list. */
  allowedTargets?: string | AllowList;
  /** Name resolution; `dns.lookup(host, { all: true })` unless given (tests inject rebinding answers). */
  resolve?: Resolver;
  /** TCP/TLS connect timeout for guarded requests. */
  connectTimeoutMs?: number;
  /** Trusted CA certificates (PEM) for https targets instead of the system roots (a private CA); tests use it. */
  ca?: string | string[];
}

export interface CheckedTarget {
  host: string;
  port: number;
  protocol: 'http:' | 'https:';
  addresses: Array<{ address: string; family: 4 | 6 }>;
}

const defaultResolve: Resolver = (host) => dnsLookup(host, { all: true, verbatim: true });
const defaultPort = (protocol: string) => (protocol === 'https:' ? 443 : 80);

// Node's own HTTP client, not undici: under the connector's load undici's pools and buffers kept 10-20 MB more
// resident (issue 7's memory target) for no CPU saved (docs/hot-path.md, memory). process.getBuiltinModule rather
// than an ES import of node:http, which would load Node's bundled undici (runtime/src/ops.server.ts says why).
const http = process.getBuiltinModule('node:http');
const https = process.getBuiltinModule('node:https');

type Checker = (host: string, port: number, protocol: 'http:' | 'https:') => Promise<CheckedTarget>;
type CreateConnection = (options: ClientRequestArgs, callback: (err: Error | null, socket?: Socket) => void) => Socket | undefined;

/** Idle keep-alive sockets are closed after this (a server's shorter `Keep-Alive: timeout` hint wins). */
const IDLE_SOCKET_MS = 4_000;

const timeoutError = (ms: number) => Object.assign(new Error(`connect timeout after ${ms} ms`), { code: 'ETIMEDOUT' });

/**
 * A keep-alive agent whose every new connection is checked first and dialled only to the addresses just checked: the
 * socket asks our lookup (never DNS) for the host's addresses. TLS verifies the certificate against the servername
 * the request gives (`request` sets it from the URL's host). `connectTimeoutMs` covers the check (name resolution
 * included) and the connect; when it runs out during the check, or the request's signal was aborted meanwhile, nothing
 * is dialled.
 */
function guardedAgent(protocol: 'http:' | 'https:', check: Checker, connectTimeoutMs: number, ca: string | string[] | undefined): HttpAgent {
  const options: AgentOptions & { ca?: string | string[] } = { keepAlive: true, scheduling: 'lifo', timeout: IDLE_SOCKET_MS, ...(ca ? { ca } : {}) };
  const agent = protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);
  const connect = (agent as unknown as { createConnection: CreateConnection }).createConnection.bind(agent);
  (agent as unknown as { createConnection: CreateConnection }).createConnection = (opts, callback) => {
    let socket: Socket | undefined;
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      callback(err);
    };
    const timer = setTimeout(() => (socket ? socket.destroy(timeoutError(connectTimeoutMs)) : fail(timeoutError(connectTimeoutMs))), connectTimeoutMs);
    timer.unref();
    const port = opts.port ? Number(opts.port) : defaultPort(protocol);
    check(opts.host ?? opts.hostname ?? '', port, protocol).then(
      (checked) => {
        if (settled) return; // timed out during the check: nothing is dialled
        const aborted = (opts as { abortDial?: AbortSignal }).abortDial;
        if (aborted?.aborted) {
          clearTimeout(timer);
          fail(Object.assign(new Error('the request was aborted'), { name: 'AbortError' }));
          return;
        }
        try {
          const lookup: LookupFunction = (_host, lookupOptions, cb) => {
            const list = checked.addresses;
            if ((lookupOptions as { all?: boolean }).all) (cb as unknown as (e: null, a: typeof list) => void)(null, list);
            else cb(null, list[0]!.address, list[0]!.family);
          };
          const dialled = connect({ ...opts, lookup } as ClientRequestArgs, () => undefined);
          if (!dialled) throw new Error('the agent returned no socket');
          socket = dialled;
          dialled.once(protocol === 'https:' ? 'secureConnect' : 'connect', () => clearTimeout(timer));
          dialled.once('close', () => clearTimeout(timer));
          settled = true;
          callback(null, dialled);
        } catch (err) {
          clearTimeout(timer);
          fail(err as Error);
        }
      },
      (err: unknown) => {
        clearTimeout(timer);
        fail(err as Error);
      },
    );
    return undefined;
  };
  return agent;
}

/** An answer of `OutboundGuard.request`. */
export interface OutboundAnswer {
  status: number;
  /** A header's value (case-insensitive name; repeated ones joined), or null. */
  header(name: string): string | null;
  text: string;
}

export class OutboundGuard {
  readonly allowList: AllowList;
  readonly #resolve: Resolver;
  readonly #connectTimeoutMs: number;
  readonly #ca: string | string[] | undefined;
  readonly #agents = new Map<'http:' | 'https:', HttpAgent>();

  constructor(opts: OutboundGuardOptions = {}) {
    this.allowList = typeof opts.allowedTargets === 'object' ? opts.allowedTargets : parseAllowedTargets(opts.allowedTargets);
    this.#resolve = opts.resolve ?? defaultResolve;
    this.#connectTimeoutMs = opts.connectTimeoutMs ?? 10_000;
    this.#ca = opts.ca;
  }

  /**
   * Full check of a URL (scheme, then every address its host resolves to). Use it when a URL is saved; the
   * connect-time check repeats it on every new connection. Rejects with OutboundTargetRefusedError; a host that
   * does not resolve rejects with the resolver's error.
   */
  async checkUrl(input: string | URL): Promise<CheckedTarget> {
    const url = typeof input === 'string' ? new URL(input) : input;
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new OutboundTargetRefusedError(url.origin, `${url.protocol} is not http or https`);
    const port = url.port ? Number(url.port) : defaultPort(url.protocol);
    return this.checkHost(url.hostname, port, url.protocol);
  }

  /** Resolves `host` (or takes it as an IP literal) and checks every address; see checkUrl. */
  async checkHost(hostInput: string, port: number, protocol: 'http:' | 'https:'): Promise<CheckedTarget> {
    const host = normaliseHost(hostInput);
    const target = `${protocol}//${host.includes(':') ? `[${host}]` : host}:${port}`;
    // A host-name entry trusts whatever the name resolves to; otherwise each address is judged on its own.
    const named = !isIpLiteral(host) && allowsName(this.allowList, host, port);
    const resolved = isIpLiteral(host) ? [{ address: host, family: isIP(host) }] : await this.#resolve(host);
    if (resolved.length === 0) throw new OutboundTargetRefusedError(target, 'the host resolves to no address');
    const addresses: CheckedTarget['addresses'] = [];
    for (const r of resolved) {
      const c = classifyAddress(r.address);
      if (!named) {
        const listed = allowsAddress(this.allowList, c.address, port);
        if (protocol === 'http:' && !listed) throw new OutboundTargetRefusedError(target, `https is required (http only for targets in DOMIQ_ALLOWED_TARGETS; ${c.address} is not)`);
        if (!c.public && !listed) throw new OutboundTargetRefusedError(target, `resolves to ${c.address} (${c.range}), not a public address`);
      }
      addresses.push({ address: c.address, family: c.family });
    }
    return { host, port, protocol, addresses };
  }

  /** The keep-alive agent for `protocol` whose every new connection is checked and dialled only to checked addresses. */
  agent(protocol: 'http:' | 'https:'): HttpAgent {
    let agent = this.#agents.get(protocol);
    if (!agent) {
      agent = guardedAgent(protocol, (host, port, p) => this.checkHost(host, port, p), this.#connectTimeoutMs, this.#ca);
      this.#agents.set(protocol, agent);
    }
    return agent;
  }

  /**
   * One request through the guard, the answer's body read whole: every new connection is checked (see `agent`), a
   * refusal rejects with the OutboundTargetRefusedError itself, and redirects are not followed (a 3xx comes back as it
   * is, so a redirect cannot lead anywhere unchecked). An aborted `signal` rejects at once, with the signal's reason
   * (AbortSignal.timeout's is a TimeoutError) or an AbortError, whatever the request was waiting for (the check too).
   */
  async request(input: string | URL, init: { method: 'GET' | 'POST'; headers?: Record<string, string>; body?: string; signal?: AbortSignal }): Promise<OutboundAnswer> {
    const url = typeof input === 'string' ? new URL(input) : input;
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new OutboundTargetRefusedError(url.origin, `${url.protocol} is not http or https`);
    const protocol = url.protocol;
    const client = protocol === 'https:' ? https : http;
    const { signal } = init;
    signal?.throwIfAborted();
    // The certificate is checked against the URL's host, never against a Host header the caller may have set.
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const tls = protocol === 'https:' ? { servername: isIP(host) ? '' : host } : {};
    return new Promise<OutboundAnswer>((resolve, reject) => {
      // abortDial: Node hands a request's options on to the agent's createConnection, which dials nothing for a
      // request aborted while its connection was being checked.
      const options: ClientRequestArgs & { abortDial?: AbortSignal } = { method: init.method, headers: init.headers, agent: this.agent(protocol), ...tls, abortDial: signal };
      const req = client.request(url, options, (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', done);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          done(null, { status: res.statusCode ?? 0, header: (name) => { const v = res.headers[name.toLowerCase()]; return Array.isArray(v) ? v.join(', ') : v ?? null; }, text });
        });
      });
      const onAbort = () => {
        const reason: unknown = signal?.reason;
        const err = reason instanceof Error ? reason : Object.assign(new Error('the request was aborted'), { name: 'AbortError' });
        req.destroy(err);
        done(err);
      };
      function done(err: Error | null, answer?: OutboundAnswer): void {
        signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve(answer!);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', done);
      req.end(init.body);
    });
  }

  /** Destroys the agents and their sockets, requests in flight included: call it once nothing uses the guard. */
  async close(): Promise<void> {
    for (const agent of this.#agents.values()) agent.destroy();
    this.#agents.clear();
  }
}
