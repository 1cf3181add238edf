export { ROLES, isUuid, AuthenticationError, PermissionDeniedError, callerFromClaims, auditActor, type Role, type Caller } from './caller.ts';
export {
  SIGNING_ALG, DEV_KID_PREFIX, DEFAULT_ISSUER, DEFAULT_AUDIENCE, DEV_KEYS_DIR, generateSigningKey, keyFiles, writeKeyFiles, ensureDevKeys,
  readSigningKey, mintToken, parseTtl, writeServiceTokens, type SigningKey, type KeyFiles, type TokenSubject, type MintOptions,
} from './keys.ts';
export { createTokenVerifier, devKeyIds, type TokenVerifier, type VerifierOptions } from './verifier.ts';
export { ServiceToken } from './service-token.ts';
export { jwksUrl, parseJwks, readJwks } from './jwks.ts';
export { WatchedFile } from './watched-file.ts';
