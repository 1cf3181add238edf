import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import type { Role } from './caller.ts';
import { SERVICE_NAMES, type ServiceName } from '@domiq/proto/services';

/** Asymmetric: services hold only public keys; whoever mints holds the private one. */
export const SIGNING_ALG = 'ES256';
/** Development keys carry this kid prefix, so production can recognise and refuse them. */
export const DEV_KID_PREFIX = 'domiq-dev-';
export const DEFAULT_ISSUER = 'domiq';
export const DEFAULT_AUDIENCE = 'domiq';

/** Where `npm start`, `npm run token` and services in development keep the development key pair (git-ignored). */
export const DEV_KEYS_DIR = join(import.meta.dirname, '..', '..', '..', '.data', 'keys');

export interface SigningKey {
  kid: string;
  privateJwk: JWK;
  publicJwk: JWK;
}

export async function generateSigningKey(kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
  const meta = { kid, alg: SIGNING_ALG, use: 'sig' };
  return { kid, privateJwk: { ...(await exportJWK(privateKey)), ...meta }, publicJwk: { ...(await exportJWK(publicKey)), ...meta } };
}

export interface KeyFiles {
  /** The private JWK (mode 0600). */
  signingKey: string;
  /** `{ keys: [public JWK, ...] }`: what services are given as DOMIQ_JWKS. */
  jwks: string;
}

export function keyFiles(dir: string): KeyFiles {
  return { signingKey: join(dir, 'signing-key.json'), jwks: join(dir, 'jwks.json') };
}

/** Writes a key pair into `dir`; an existing JWKS keeps its other keys (rotation: old tokens verify until they expire). */
export function writeKeyFiles(dir: string, key: SigningKey): KeyFiles {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const files = keyFiles(dir);
  writeFileSync(files.signingKey, JSON.stringify(key.privateJwk), { mode: 0o600 });
  chmodSync(files.signingKey, 0o600);
  const previous = existsSync(files.jwks) ? (JSON.parse(readFileSync(files.jwks, 'utf8')) as { keys: JWK[] }).keys.filter((k) => k.kid !== key.kid) : [];
  // Write-then-rename: a service re-reading the key set never sees half a file.
  writeFileSync(`${files.jwks}.tmp`, JSON.stringify({ keys: [key.publicJwk, ...previous] }, null, 2));
  renameSync(`${files.jwks}.tmp`, files.jwks);
  return files;
}

/** The development key pair, generated on first use (kid `domiq-dev-<random>`). */
export async function ensureDevKeys(dir = DEV_KEYS_DIR): Promise<KeyFiles> {
  const files = keyFiles(dir);
  if (existsSync(files.signingKey) && existsSync(files.jwks)) return files;
  return writeKeyFiles(dir, await generateSigningKey(`${DEV_KID_PREFIX}${randomBytes(4).toString('hex')}`));
}

export function readSigningKey(path: string): JWK {
  const jwk = JSON.parse(readFileSync(path, 'utf8')) as JWK;
  if (!jwk.kid || !jwk.d) throw new Error(`${path} is not a private JWK with a kid`);
  return jwk;
}

export type TokenSubject =
  | { service: ServiceName }
  | { userId: string; role: Role; accountId: string; propertyIds?: readonly string[] };

export interface MintOptions {
  ttlSeconds: number;
  issuer?: string;
  audience?: string;
}

/** Signs a token for a user or a service. */
export async function mintToken(privateJwk: JWK, subject: TokenSubject, opts: MintOptions): Promise<string> {
  const key = await importJWK(privateJwk, SIGNING_ALG);
  const claims = 'service' in subject
    ? {}
    : { role: subject.role, account_id: subject.accountId, ...(subject.propertyIds?.length ? { property_ids: [...subject.propertyIds] } : {}) };
  return new SignJWT(claims)
    .setProtectedHeader({ alg: SIGNING_ALG, kid: privateJwk.kid!, typ: 'JWT' })
    .setSubject('service' in subject ? `service:${subject.service}` : subject.userId)
    .setIssuer(opts.issuer ?? DEFAULT_ISSUER)
    .setAudience(opts.audience ?? DEFAULT_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + opts.ttlSeconds)
    .setJti(crypto.randomUUID())
    .sign(key);
}

/** Parses `30s`, `15m`, `1h`, `7d` (or plain seconds). */
export function parseTtl(value: string): number {
  const m = /^(\d+)\s*([smhd]?)$/.exec(value.trim());
  if (!m) throw new Error(`ttl "${value}" must look like 30s, 15m, 1h or 7d`);
  const n = Number(m[1]);
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
  if (n <= 0) throw new Error('ttl must be positive');
  return n * unit;
}

/** Mints every service's own token into `<dir>/<service>.token` (mode 0600): what DOMIQ_SERVICE_TOKEN_FILE points at. */
export async function writeServiceTokens(dir: string, privateJwk: JWK, ttlSeconds: number): Promise<Record<ServiceName, { file: string; token: string }>> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const out = {} as Record<ServiceName, { file: string; token: string }>;
  for (const service of SERVICE_NAMES) {
    const file = join(dir, `${service}.token`);
    const token = await mintToken(privateJwk, { service }, { ttlSeconds });
    writeFileSync(`${file}.tmp`, token, { mode: 0o600 });
    renameSync(`${file}.tmp`, file);
    out[service] = { file, token };
  }
  return out;
}
