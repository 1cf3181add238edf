import { Writable } from 'node:stream';
import { context, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { describe, expect, it } from 'vitest';
import { CENSOR, createLogger, isSecretKey, redactSecrets } from '../src/index.ts';

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
      'api_credentials_encrypted', 'secretEncrypted', 'DOMIQ_ENCRYPTION_KEY', 'client_secret', 'private_key', 'Cookie', 'jwt']) {
      expect(isSecretKey(key), key).toBe(true);
    }
    for (const key of ['channel_key', 'message_sid', 'signature_present', 'account_id', 'tokens_used', 'key', 'trace_id']) expect(isSecretKey(key), key).toBe(false);
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
