// Outbound requests to tenant-configured URLs: https to public addresses only, unless DOMIQ_ALLOWED_TARGETS
// says otherwise. Checked when the URL is saved (checkUrl) and again on every new connection: the connector
// resolves the host itself, checks every address, and hands exactly those addresses to the socket, so a DNS
// answer that changes between the check and the connect (rebinding) cannot reach a refused address.
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import { Agent, buildConnector, fetch as undiciFetch } from 'undici';
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

export class OutboundGuard {
  readonly allowList: AllowList;
  readonly #resolve: Resolver;
  readonly #connectTimeoutMs: number;
  readonly #ca: string | string[] | undefined;
  #agent: Agent | undefined;

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

  /** An undici dispatcher whose every new connection is checked and dialled only to checked addresses. */
  get dispatcher(): Agent {
    this.#agent ??= new Agent({
      connect: (opts, callback) => {
        const protocol = opts.protocol === 'https:' ? 'https:' : 'http:';
        const port = opts.port ? Number(opts.port) : defaultPort(protocol);
        this.checkHost(opts.hostname, port, protocol).then(
          (checked) => {
            // The socket asks this lookup (never DNS) for the host's addresses: exactly the ones just checked.
            const lookup: LookupFunction = (_host, options, cb) => {
              const list = checked.addresses;
              if ((options as { all?: boolean }).all) (cb as unknown as (e: null, a: typeof list) => void)(null, list);
              else cb(null, list[0]!.address, list[0]!.family);
            };
            const connector = buildConnector({ timeout: this.#connectTimeoutMs, lookup, ...(this.#ca ? { ca: this.#ca } : {}) } as buildConnector.BuildOptions);
            connector(opts, callback);
          },
          (err: unknown) => callback(err as Error, null),
        );
      },
    });
    return this.#agent;
  }

  /**
   * `fetch` through the guard: every new connection is checked (see `dispatcher`), a refusal rejects with the
   * OutboundTargetRefusedError itself (not a generic network error), and redirects are not followed (a 3xx comes
   * back as it is, so a redirect cannot lead anywhere unchecked).
   */
  async fetch(input: string | URL, init: RequestInit = {}): Promise<Response> {
    const url = typeof input === 'string' ? new URL(input) : input;
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new OutboundTargetRefusedError(url.origin, `${url.protocol} is not http or https`);
    try {
      const res = await undiciFetch(url, { ...(init as object), redirect: 'manual', dispatcher: this.dispatcher } as Parameters<typeof undiciFetch>[1]);
      return res as unknown as Response;
    } catch (err) {
      const cause = (err as { cause?: unknown }).cause;
      if (cause instanceof OutboundTargetRefusedError) throw cause;
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.#agent?.close();
    this.#agent = undefined;
  }
}
