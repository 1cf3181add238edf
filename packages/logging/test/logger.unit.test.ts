import { Writable } from 'node:stream';
import { context, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { Metadata } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { CENSOR, createLogger, isSecretKey, REDACT_MAX_DEPTH, redactSecrets, TOO_DEEP } from '../src/index.ts';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({ write(chunk, _enc, cb) { lines.push(JSON.parse(String(chunk))); cb(); } });
  return { lines, stream };
}

describe('createLogger', () => {
  it('redacts secrets at any of the first levels', () => {
    const { lines, stream } = capture();
    const log = createLogger('test', 'info', stream);
    log.info({ apiKey: 'k1', integration: { api_key: 'k2', credentials: { authToken: 'k3' } }, req: { headers: { authorization: 'Basic abc' } } }, 'hello');
    const text = JSON.stringify(lines[0]);
    for (const secret of ['k1', 'k2', 'Basic abc']) expect(text).not.toContain(secret);
    expect(text).toContain('[redacted]');
  });
  it('redacts every secret key at any depth, at every level, keeping the other fields', () => {
    const keys = ['authorization', 'Authorization', 'token', 'apiKey', 'api_key', 'password', 'seed', 'credentials', 'credentialsEncrypted',
      'credentials_encrypted', 'x-twilio-signature', 'x-api-key', 'cookie', 'DOMIQ_ENCRYPTION_KEY', 'NATS_NKEY_SEED', 'accessToken'];
    const nest = (depth: number, leaf: Record<string, unknown>): Record<string, unknown> => (depth === 0 ? leaf : { [`level${depth}`]: nest(depth - 1, leaf) });
    for (const level of ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const) {
      const { lines, stream } = capture();
      const log = createLogger('test', 'trace', stream);
      let n = 0;
      const planted: string[] = [];
      for (const key of keys) {
        for (let depth = 0; depth <= 8; depth++) {
          const secret = `s3cr3t-${level}-${n++}`;
          planted.push(secret);
          log[level](nest(depth, { [key]: secret, harmless: `kept-${key}-${depth}` }), 'msg');
        }
      }
      expect(lines).toHaveLength(planted.length);
      const text = lines.map((l) => JSON.stringify(l)).join('\n');
      for (const secret of planted) expect(text, `${level}: ${secret}`).not.toContain(secret);
      for (const key of keys) expect(text).toContain(`kept-${key}-8`);
    }
  });

  it('redacts gRPC metadata and HTTP headers wherever they are logged', () => {
    const { lines, stream } = capture();
    const log = createLogger('test', 'trace', stream);
    log.trace({ call: { metadata: { authorization: 'Bearer eyJhbGciOi.payload.sig', 'x-request-id': 'r-1' } } }, 'grpc call');
    log.debug({ res: { headers: { 'set-cookie': 'sid=abc123secret' } }, req: { headers: { cookie: 'sid=abc123secret', 'x-twilio-signature': 'c2lnbmF0dXJl' } } }, 'http');
    const text = JSON.stringify(lines);
    for (const secret of ['eyJhbGciOi', 'abc123secret', 'c2lnbmF0dXJl']) expect(text).not.toContain(secret);
    expect(text).toContain('r-1');
  });

  it('knows secret keys by name and suffix, in any case and with - or _', () => {
    for (const key of ['Authorization', 'proxy-authorization', 'X-Twilio-Signature', 'token', 'serviceToken', 'DOMIQ_SERVICE_TOKEN', 'auth_token',
      'ApiKey', 'x-api-key', 'resmanApiKey', 'password', 'seed', 'NATS_NKEY_SEED', 'credentials', 'apiCredentials', 'credentialsEncrypted',
      'api_credentials_encrypted', 'secretEncrypted', 'DOMIQ_ENCRYPTION_KEY', 'client_secret', 'private_key', 'Cookie', 'jwt',
      // Plurals, key material and NATS identities.
      'keys', 'Keys', 'tokens', 'refresh_tokens', 'apiKeys', 'api_keys', 'secrets', 'clientSecrets', 'DOMIQ_ENCRYPTION_KEYS', 'encryptionKeys',
      'privateKeys', 'signingKeys', 'passwords', 'seeds', 'nkey', 'NATS_NKEY', 'userNkeys', 'jwk', 'privateJwk', 'private_jwk', 'jwks_private_jwk',
      'credential', 'signatures', 'cookies', 'AWS_SECRET_ACCESS_KEY', 'accessKey', 'passwd']) {
      expect(isSecretKey(key), key).toBe(true);
    }
    for (const key of ['channel_key', 'message_sid', 'signature_present', 'account_id', 'tokens_used', 'key', 'trace_id', 'kid', 'keyId',
      'publicKey', 'key_count', 'seeded', 'channel_keys_count']) {
      expect(isSecretKey(key), key).toBe(false);
    }
    // The verdict is cached by key as written; asking again gives the same answer.
    expect(isSecretKey('apiKeys')).toBe(true);
    expect(isSecretKey('key')).toBe(false);
  });

  it('redacts plural and key-material fields in the written line', () => {
    const { lines, stream } = capture();
    const log = createLogger('test', 'info', stream);
    log.info({
      config: { DOMIQ_ENCRYPTION_KEYS: 'k1:c2VjcmV0LWtleS1vbmU=,k2:c2VjcmV0LWtleS10d28=', NATS_NKEY_SEED: 'SUAseed-secret', nkey: 'UAnkey-value' },
      tenant: { apiKeys: ['api-key-1', 'api-key-2'], tokens: { access: 'tok-a', refresh: 'tok-r' }, secrets: { webhook: 'whsec-1' } },
      signer: { privateJwk: { kty: 'OKP', crv: 'Ed25519', x: 'pub-x', d: 'jwk-private-d' }, jwk: { kty: 'oct', k: 'jwk-oct-k' } },
      jwks: { keys: [{ kty: 'RSA', n: 'pub-n', e: 'AQAB', d: 'rsa-d' }] },
      seeds: ['seed-one'],
    }, 'config');
    const text = JSON.stringify(lines);
    for (const secret of ['c2VjcmV0', 'SUAseed-secret', 'UAnkey-value', 'api-key-1', 'tok-a', 'tok-r', 'whsec-1', 'jwk-private-d', 'jwk-oct-k', 'rsa-d', 'seed-one']) {
      expect(text, secret).not.toContain(secret);
    }
  });

  it('censors the private members of anything shaped like a JWK, under any key, and keeps the public ones', () => {
    const key = { kty: 'EC', crv: 'P-256', kid: 'k-1', x: 'pub-x', y: 'pub-y', d: 'ec-private-d' };
    const rsa = { kty: 'RSA', n: 'pub-n', e: 'AQAB', d: 'r-d', p: 'r-p', q: 'r-q', dp: 'r-dp', dq: 'r-dq', qi: 'r-qi' };
    expect(redactSecrets({ signer: key, list: [rsa] })).toEqual({
      signer: { ...key, d: CENSOR },
      list: [{ kty: 'RSA', n: 'pub-n', e: 'AQAB', d: CENSOR, p: CENSOR, q: CENSOR, dp: CENSOR, dq: CENSOR, qi: CENSOR }],
    });
    // Outside a JWK those short names mean nothing.
    const plain = { d: 4, p: 'page', k: 'v' };
    expect(redactSecrets({ plain }).plain).toBe(plain);
  });

  it('redacts what values with a toJSON serialize to, such as grpc-js Metadata', () => {
    const { lines, stream } = capture();
    const log = createLogger('test', 'trace', stream);
    const metadata = new Metadata();
    metadata.set('authorization', 'Bearer eyJmetadata.payload.sig');
    metadata.set('x-request-id', 'r-42');
    metadata.set('x-api-key', 'metadata-api-key');
    log.debug({ call: { method: '/domiq.identity.v1.IdentityService/GetProperty', metadata } }, 'grpc call');
    log.debug({ metadata }, 'grpc call');
    const custom = { toJSON: () => ({ headers: { Authorization: 'Basic custom-secret' }, kept: 'visible' }) };
    log.info({ custom }, 'custom');
    const text = JSON.stringify(lines);
    for (const secret of ['eyJmetadata', 'metadata-api-key', 'custom-secret']) expect(text).not.toContain(secret);
    expect(text).toContain('r-42');
    expect(text).toContain('visible');
    expect(lines[1]!.metadata).toEqual({ authorization: CENSOR, 'x-request-id': ['r-42'], 'x-api-key': CENSOR });
    // The caller's Metadata is untouched.
    expect(metadata.get('authorization')).toEqual(['Bearer eyJmetadata.payload.sig']);
  });

  it('leaves values whose toJSON holds no secret as they are: dates, buffers, self-describing secrets holders', () => {
    const at = new Date('2026-01-02T03:04:05Z');
    const buf = Buffer.from('bytes');
    const box = { toJSON: () => '[SecretBox]' };
    const same = { nested: { at, buf, box, metadata: new Metadata() } };
    expect(redactSecrets(same)).toBe(same);
    const throwing = { toJSON() { throw new Error('no'); } };
    expect(redactSecrets({ throwing }).throwing).toBe(throwing);
  });

  it('redacts inside an error\'s cause and an AggregateError\'s errors, which pino prints', () => {
    const { lines, stream } = capture();
    const log = createLogger('test', 'info', stream);
    const inner = Object.assign(new Error('upstream failed'), { config: { headers: { authorization: 'Bearer inner-secret' } } });
    const cause = Object.assign(new Error('cause'), { response: { headers: { 'set-cookie': 'sid=cause-secret' } } });
    const err = new AggregateError([inner], 'all failed', { cause });
    log.error({ err }, 'failed');
    const text = JSON.stringify(lines);
    expect(text).not.toContain('inner-secret');
    expect(text).not.toContain('cause-secret');
    expect(lines[0]).toMatchObject({ err: { type: 'AggregateError', message: expect.stringContaining('all failed'), aggregateErrors: [{ message: 'upstream failed', config: { headers: { authorization: CENSOR } } }] } });
    // The originals are untouched, and the copy is still an AggregateError with its stack.
    expect(inner.config.headers.authorization).toBe('Bearer inner-secret');
    const copy = redactSecrets({ err }).err;
    expect(copy).toBeInstanceOf(AggregateError);
    expect(copy.stack).toBe(err.stack);
    expect(copy.errors[0]).toBeInstanceOf(Error);
    expect(Object.keys(copy)).toEqual(Object.keys(err));
  });

  it('does not pass on objects deeper than it searches, or cycles, unread', () => {
    const nest = (depth: number, leaf: unknown): unknown => (depth === 0 ? leaf : { down: nest(depth - 1, leaf) });
    const deep = nest(REDACT_MAX_DEPTH + 5, { token: 'deep-secret' });
    const text = JSON.stringify(redactSecrets({ deep }));
    expect(text).not.toContain('deep-secret');
    expect(text).toContain(TOO_DEEP);
    // Just within the depth: redacted, not cut.
    expect(JSON.stringify(redactSecrets(nest(REDACT_MAX_DEPTH, { token: 'x' })))).toContain(CENSOR);

    const cyclic: Record<string, unknown> = { name: 'loop', token: 'cycle-secret' };
    cyclic.self = cyclic;
    cyclic.list = [cyclic];
    const { lines, stream } = capture();
    createLogger('test', 'info', stream).info({ cyclic }, 'cycle');
    expect(JSON.stringify(lines)).not.toContain('cycle-secret');
    expect(lines[0]!.cyclic).toEqual({ name: 'loop', token: CENSOR, self: '[Circular]', list: ['[Circular]'] });
    // Any cycle is cut where it closes (the serializer would print the same), on a copy.
    const harmless: Record<string, unknown> = { name: 'loop' };
    harmless.self = harmless;
    expect(redactSecrets({ harmless }).harmless).toEqual({ name: 'loop', self: '[Circular]' });
    expect(harmless.self).toBe(harmless);
  });

  it('redacts nested child bindings, setBindings and printf-style arguments', () => {
    const { lines, stream } = capture();
    const log = createLogger('test', 'info', stream);
    const child = log.child({ call: { metadata: { authorization: 'Bearer child-nested' } }, keys: ['child-key'] });
    child.info('from child');
    child.child({ tenant: { apiKeys: ['grandchild-key'] } }).info('from grandchild');
    log.setBindings({ integration: { client_secret: 'set-bindings-secret' } });
    log.info('after setBindings');
    log.info('printf %o and %j', { token: 'printf-o-secret' }, { nested: { password: 'printf-j-secret' } });
    log.info({ plain: 1 }, 'merge then %s %o', 'text', { apiKey: 'printf-after-merge' });
    const text = JSON.stringify(lines);
    for (const secret of ['child-nested', 'child-key', 'grandchild-key', 'set-bindings-secret', 'printf-o-secret', 'printf-j-secret', 'printf-after-merge']) {
      expect(text, secret).not.toContain(secret);
    }
    expect(lines).toHaveLength(5);
    expect(lines[4]!.msg).toContain('text');
  });

  it('copies on write: the logged object is not changed, errors stay errors, booleans and nulls are kept', () => {
    const input = { a: { token: 't0ken-value', hasCredentials: true, seed: null }, list: [{ apiKey: 'k' }, 'plain'], untouched: { x: 1 } };
    const out = redactSecrets(input);
    expect(out).toEqual({ a: { token: CENSOR, hasCredentials: true, seed: null }, list: [{ apiKey: CENSOR }, 'plain'], untouched: { x: 1 } });
    expect(input.a.token).toBe('t0ken-value');
    expect(out.untouched).toBe(input.untouched);
    const err = Object.assign(new Error('boom'), { response: { headers: { authorization: 'Basic c2VjcmV0' } } });
    const redacted = redactSecrets({ err }).err;
    expect(redacted).toBeInstanceOf(Error);
    expect(redacted.message).toBe('boom');
    expect(redacted.stack).toBe(err.stack);
    expect(redacted.response.headers.authorization).toBe(CENSOR);
    expect(err.response.headers.authorization).toBe('Basic c2VjcmV0');
  });

  it('redacts errors and child bindings in the written line', () => {
    const { lines, stream } = capture();
    const log = createLogger('test', 'trace', stream);
    const err = Object.assign(new Error('request failed'), { config: { headers: { Authorization: 'Bearer err-secret' } } });
    log.child({ token: 'child-secret' }).error({ err }, 'failed');
    const text = JSON.stringify(lines);
    expect(text).not.toContain('err-secret');
    expect(text).not.toContain('child-secret');
    expect(lines[0]).toMatchObject({ err: { message: 'request failed', type: 'Error' }, token: CENSOR });
  });

  it('puts the active trace and span ids on every line', () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    const { lines, stream } = capture();
    const log = createLogger('test', 'info', stream);
    const spanContext = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED };
    context.with(trace.setSpanContext(context.active(), spanContext), () => log.info('inside'));
    log.info('outside');
    expect(lines[0]).toMatchObject({ trace_id: spanContext.traceId, span_id: spanContext.spanId, service: 'test' });
    expect(lines[1]!.trace_id).toBeUndefined();
  });
});
