import { readFileSync, statSync } from 'node:fs';
import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify, type JWK, type JWTVerifyGetKey } from 'jose';
import { AuthenticationError, callerFromClaims, type Caller } from './caller.ts';
import { DEFAULT_AUDIENCE, DEFAULT_ISSUER, DEV_KID_PREFIX } from './keys.ts';

export interface VerifierOptions {
  /** A JWKS file path or an https URL serving one. */
  jwks: string;
  issuer?: string;
  audience?: string;
}

export interface TokenVerifier {
  /** Verifies `authorization` metadata (`Bearer <jwt>`); throws AuthenticationError naming the reason. */
  verifyAuthorization(header: string | undefined): Promise<Caller>;
}

const isUrl = (s: string) => /^https?:\/\//.test(s);
// Verified tokens are cached until they expire: a service's own token arrives with every call on the hot path.
const CACHE_MAX = 10_000;
const FILE_RECHECK_MS = 5_000;

/** A JWKS file re-read when it changes, so adding a key (rotation) needs no restart. */
function fileKeySet(path: string): JWTVerifyGetKey {
  let mtime = -1;
  let checkedAt = 0;
  let set: JWTVerifyGetKey | undefined;
  const load = () => {
    const now = Date.now();
    if (set && now - checkedAt < FILE_RECHECK_MS) return;
    checkedAt = now;
    const m = statSync(path).mtimeMs;
    if (m === mtime && set) return;
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as { keys?: JWK[] };
    if (!Array.isArray(parsed.keys) || parsed.keys.length === 0) throw new Error(`${path} holds no keys`);
    set = createLocalJWKSet({ keys: parsed.keys });
    mtime = m;
  };
  load();
  return (header, token) => {
    load();
    return set!(header, token);
  };
}

function reason(err: unknown): string {
  if (err instanceof AuthenticationError) return err.message;
  if (err instanceof errors.JWTExpired) return 'token expired';
  if (err instanceof errors.JWTClaimValidationFailed) return `token claim "${err.claim}" is not accepted (${err.reason})`;
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'token signature does not verify';
  if (err instanceof errors.JWKSNoMatchingKey) return 'token signed by an unknown key';
  if (err instanceof errors.JOSEAlgNotAllowed) return 'token algorithm not allowed';
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return 'token is malformed';
  return 'token could not be verified';
}

export function createTokenVerifier(opts: VerifierOptions): TokenVerifier {
  const getKey: JWTVerifyGetKey = isUrl(opts.jwks) ? createRemoteJWKSet(new URL(opts.jwks)) : fileKeySet(opts.jwks);
  const cache = new Map<string, { caller: Caller; expMs: number }>();
  return {
    async verifyAuthorization(header) {
      if (!header) throw new AuthenticationError('missing authorization metadata (expected "Bearer <token>")');
      const m = /^Bearer\s+(\S+)$/i.exec(header.trim());
      if (!m) throw new AuthenticationError('authorization must be "Bearer <token>"');
      const token = m[1]!;
      const hit = cache.get(token);
      if (hit && hit.expMs > Date.now()) return hit.caller;
      try {
        const { payload } = await jwtVerify(token, getKey, {
          issuer: opts.issuer ?? DEFAULT_ISSUER,
          audience: opts.audience ?? DEFAULT_AUDIENCE,
          algorithms: ['ES256', 'ES384', 'EdDSA', 'RS256'],
          requiredClaims: ['exp', 'sub', 'iss', 'aud'],
        });
        const caller = callerFromClaims(payload as Record<string, unknown>);
        if (cache.size >= CACHE_MAX) cache.clear();
        cache.set(token, { caller, expMs: payload.exp! * 1000 });
        return caller;
      } catch (err) {
        throw new AuthenticationError(reason(err));
      }
    },
  };
}

/** Key ids that are development keys (refused in production). */
export function devKeyIds(kids: string[]): string[] {
  return kids.filter((k) => k.startsWith(DEV_KID_PREFIX));
}
