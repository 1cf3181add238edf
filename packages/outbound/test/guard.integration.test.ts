// The guard against real sockets: connections to refused addresses are never opened, the connection goes to the
// address that was checked (not to a second DNS answer), and https still verifies the certificate by host name.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, get as httpGet, type Server } from 'node:http';
import { createServer as createTlsServer, get as httpsGet } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OutboundGuard, OutboundTargetRefusedError, type Resolver } from '../src/index.ts';

let server: Server;
let port: number;
let connections = 0;

beforeAll(async () => {
  // On 0.0.0.0 so 127.0.0.2 reaches it too (the "rebound" address in one test).
  server = createServer((req, res) => {
    if (req.url === '/redirect') {
      res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
      return;
    }
    res.end('hello');
  });
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '0.0.0.0', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  connections = 0;
});

/** A request made straight on the guard's agent (no URL check first): http.get with `agent`. */
const getThrough = (guard: OutboundGuard, url: string) => new Promise<void>((resolve, reject) => {
  const protocol = new URL(url).protocol as 'http:' | 'https:';
  const get = protocol === 'https:' ? httpsGet : httpGet;
  get(url, { agent: guard.agent(protocol) }, (res) => res.resume().on('end', resolve)).on('error', reject);
});

const refusal = async (p: Promise<unknown>): Promise<OutboundTargetRefusedError> => {
  const err = await p.then(() => null, (e: unknown) => e);
  const refused = err instanceof OutboundTargetRefusedError ? err : (err as { cause?: unknown } | null)?.cause;
  expect(refused, String(err)).toBeInstanceOf(OutboundTargetRefusedError);
  return refused as OutboundTargetRefusedError;
};

describe('OutboundGuard at connect time', () => {
  it('refuses https://localhost (resolves to 127.0.0.1) when nothing allows it, without connecting', async () => {
    const guard = new OutboundGuard({ allowedTargets: '' });
    const err = await refusal(guard.request(`https://localhost:${port}/`, { method: 'GET' }));
    expect(err.reason).toMatch(/127\.0\.0\.1 \(loopback\)|::1 \(loopback\)/);
    // The agent itself refuses too, when the URL check is skipped (a request made straight on the agent).
    await refusal(getThrough(guard, `https://localhost:${port}/`));
    await refusal(getThrough(guard, `http://127.0.0.1:${port}/`));
    expect(connections).toBe(0);
    await guard.close();
  });

  it('lets an allow-listed http target through, and does not follow a redirect to a refused address', async () => {
    const guard = new OutboundGuard({ allowedTargets: `127.0.0.1:${port}` });
    const res = await guard.request(`http://127.0.0.1:${port}/`, { method: 'GET' });
    expect(res.text).toBe('hello');
    const redirected = await guard.request(`http://127.0.0.1:${port}/redirect`, { method: 'GET' });
    expect(redirected.status).toBe(302);
    await guard.close();
  });

  it('dials the address it checked: a DNS answer that changes after the check is refused (rebinding)', async () => {
    let calls = 0;
    // First answer (the check when the URL is saved) is allow-listed; the second (the connection) points elsewhere.
    const rebinding: Resolver = async () => [{ address: calls++ === 0 ? '127.0.0.1' : '127.0.0.2', family: 4 }];
    const guard = new OutboundGuard({ allowedTargets: `127.0.0.1:${port}`, resolve: rebinding });
    await expect(guard.checkUrl(`http://rebind.invalid:${port}/`)).resolves.toMatchObject({ addresses: [{ address: '127.0.0.1' }] });
    const err = await refusal(guard.request(`http://rebind.invalid:${port}/`, { method: 'GET' }));
    expect(err.reason).toMatch(/127\.0\.0\.2/);
    expect(calls).toBe(2);
    expect(connections).toBe(0);
    await guard.close();

    // With a stable answer the same name (which no real DNS knows) connects to the address the resolver gave.
    const stable = new OutboundGuard({ allowedTargets: `127.0.0.1:${port}`, resolve: async () => [{ address: '127.0.0.1', family: 4 }] });
    expect((await stable.request(`http://rebind.invalid:${port}/`, { method: 'GET' })).text).toBe('hello');
    expect(connections).toBe(1);
    await stable.close();
  });
});

describe('OutboundGuard: aborts, timeouts, idle sockets', () => {
  /** A resolver that answers only when released (the check is then still pending as long as the test wants). */
  const held = () => {
    let release: () => void = () => undefined;
    const answer = new Promise<void>((r) => (release = r));
    const resolve: Resolver = async () => {
      await answer;
      return [{ address: '127.0.0.1', family: 4 }];
    };
    return { resolve, release: () => release() };
  };

  it('an aborted signal rejects at once, while the connect-time check is still resolving the name', async () => {
    const dns = held();
    const guard = new OutboundGuard({ allowedTargets: `127.0.0.1:${port}`, resolve: dns.resolve });
    const abort = new AbortController();
    const pending = guard.request(`http://slow-dns.invalid:${port}/`, { method: 'GET', signal: abort.signal });
    abort.abort(Object.assign(new Error('gave up'), { name: 'TimeoutError' }));
    const err = await pending.then(() => null, (e: unknown) => e as Error);
    expect(err?.name).toBe('TimeoutError');
    // When the name resolves after all, the aborted request's connection is not dialled.
    dns.release();
    await new Promise((r) => setTimeout(r, 50));
    expect(connections).toBe(0);
    await guard.close();
  });

  it('the connect timeout covers the check: nothing is dialled once it ran out', async () => {
    const dns = held();
    const guard = new OutboundGuard({ allowedTargets: `127.0.0.1:${port}`, resolve: dns.resolve, connectTimeoutMs: 50 });
    const err = await guard.request(`http://slow-dns.invalid:${port}/`, { method: 'GET' }).then(() => null, (e: unknown) => e as { code?: string });
    expect(err?.code).toBe('ETIMEDOUT');
    dns.release();
    await new Promise((r) => setTimeout(r, 50));
    expect(connections).toBe(0);
    await guard.close();
  });

  it('keeps an idle keep-alive socket at most 4 s, even when the server would keep it longer', async () => {
    const guard = new OutboundGuard({ allowedTargets: `127.0.0.1:${port}` });
    expect((await guard.request(`http://127.0.0.1:${port}/`, { method: 'GET' })).text).toBe('hello');
    const free = Object.values(guard.agent('http:').freeSockets).flat();
    expect(free).toHaveLength(1);
    expect(free[0]!.timeout).toBe(4000);
    await guard.close();
  });
});

describe('OutboundGuard over https', () => {
  let dir: string | undefined;
  let haveOpenssl = true;
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
  } catch {
    haveOpenssl = false;
  }
  afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));

  it.skipIf(!haveOpenssl)('dials the checked address but verifies the certificate against the host name', async () => {
    dir = mkdtempSync(join(tmpdir(), 'domiq-outbound-'));
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    // A certificate for the name only (no IP SAN): it verifies only if SNI / identity use "localhost", not 127.0.0.1.
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert,
      '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'], { stdio: 'ignore' });
    const tls = createTlsServer({ key: readFileSync(key), cert: readFileSync(cert) }, (_req, res) => res.end('secure hello'));
    await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
    const tlsPort = (tls.address() as AddressInfo).port;
    try {
      const resolve: Resolver = async () => [{ address: '127.0.0.1', family: 4 }];
      const allowed = new OutboundGuard({ allowedTargets: `localhost:${tlsPort}`, resolve, ca: readFileSync(cert, 'utf8') });
      expect((await allowed.request(`https://localhost:${tlsPort}/`, { method: 'GET' })).text).toBe('secure hello');
      await allowed.close();
      // The same server by IP: allow-listed, but the certificate does not name 127.0.0.1.
      const byIp = new OutboundGuard({ allowedTargets: `127.0.0.1:${tlsPort}`, ca: readFileSync(cert, 'utf8') });
      const err = await byIp.request(`https://127.0.0.1:${tlsPort}/`, { method: 'GET' }).then(() => null, (e: unknown) => e as { code?: string; cause?: { code?: string } });
      expect(err?.code ?? err?.cause?.code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
      // A Host header naming the certificate's host does not make the IP's connection pass as that host.
      const hostHeader = await byIp.request(`https://127.0.0.1:${tlsPort}/`, { method: 'GET', headers: { host: 'localhost' } }).then(() => null, (e: unknown) => e as { code?: string });
      expect(hostHeader?.code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
      await byIp.close();
    } finally {
      await new Promise<void>((r) => tls.close(() => r()));
    }
  });
});
