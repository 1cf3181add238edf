import { readFile } from 'node:fs/promises';
import type { JWK } from 'jose';

/** A key set source: a file path, or an https URL (http only on loopback, for local development). */
export function jwksUrl(source: string): URL | undefined {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(source)) return undefined;
  const url = new URL(source);
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) throw new Error(`${source}: a JWKS URL must be https`);
  return url;
}

export function parseJwks(text: string, source: string): JWK[] {
  const keys = (JSON.parse(text) as { keys?: unknown }).keys;
  if (!Array.isArray(keys) || keys.length === 0) throw new Error(`${source} holds no keys`);
  return keys as JWK[];
}

/** The keys of a JWKS file or URL (for start-up checks; the verifier keeps its own, refreshed, copy). */
export async function readJwks(source: string, timeoutMs = 5_000): Promise<JWK[]> {
  const url = jwksUrl(source);
  const text = url ? await (await fetch(url, { signal: AbortSignal.timeout(timeoutMs) })).text() : await readFile(source, 'utf8');
  return parseJwks(text, source);
}
