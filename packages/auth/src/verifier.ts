import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { AuthenticationError, callerFromClaims, type Caller } from './caller.ts';
import { jwksUrl, parseJwks } from './jwks.ts';
import { DEFAULT_AUDIENCE, DEFAULT_ISSUER, DEV_KID_PREFIX, SIGNING_ALG } from './keys.ts';
import { WatchedFile } from './watched-file.ts';

export interface VerifierOptions {
  /** A JWKS file path or an https URL serving one. */
  jwks: string;
  issuer?: string;
  audience?: string;
  /** Refuse tokens signed by development keys (production), even if such a key appears in the set later. */
  refuseDevKeys?: boolean;
}

export interface TokenVerifier {
  /** Verifies `authorization` metadata (`Bearer <jwt>`); throws AuthenticationError naming the reason. */
  verifyAuthorization(header: string | undefined): Promise<Caller>;
}

// A verified token is remembered for a minute at most (a peer's service token arrives with every call on the hot
// path), and forgotten at once when the key set file changes, so removing a key revokes what it signed.
const CACHE_MAX = 10_000;
const CACHE_TTL_MS = 60_000;

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
  const cache = new Map<string, { caller: Caller; untilMs: number }>();
  const url = jwksUrl(opts.jwks);
  const file = url ? undefined : new WatchedFile(opts.jwks, (text) => createLocalJWKSet({ keys: parseJwks(text, opts.jwks) }), { onChange: () => cache.clear() });
  const keySet: JWTVerifyGetKey = file ? (header, token) => file.get()(header, token) : createRemoteJWKSet(url!);
  const getKey: JWTVerifyGetKey = (header, token) => {
    if (!header.kid) throw new AuthenticationError('token has no kid');
    if (opts.refuseDevKeys && header.kid.startsWith(DEV_KID_PREFIX)) throw new AuthenticationError('token signed by a development key');
    return keySet(header, token);
  };
  return {
    async verifyAuthorization(header) {
      if (!header) throw new AuthenticationError('missing authorization metadata (expected "Bearer <token>")');
      const m = /^Bearer\s+(\S+)$/i.exec(header.trim());
      if (!m) throw new AuthenticationError('authorization must be "Bearer <token>"');
      const token = m[1]!;
      const now = Date.now();
      file?.get(); // notices a changed key set (and clears the cache) even while every call is a cache hit
      const hit = cache.get(token);
      if (hit && hit.untilMs > now) return hit.caller;
      try {
        const { payload } = await jwtVerify(token, getKey, {
          issuer: opts.issuer ?? DEFAULT_ISSUER,
          audience: opts.audience ?? DEFAULT_AUDIENCE,
          algorithms: [SIGNING_ALG],
          requiredClaims: ['exp', 'sub', 'iss', 'aud'],
        });
        const caller = callerFromClaims(payload as Record<string, unknown>);
        if (cache.size >= CACHE_MAX) cache.clear();
        cache.set(token, { caller, untilMs: Math.min(payload.exp! * 1000, now + CACHE_TTL_MS) });
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
