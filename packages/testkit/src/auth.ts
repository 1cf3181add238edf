import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEV_KID_PREFIX, generateSigningKey, mintToken, writeKeyFiles, writeServiceTokens, type KeyFiles, type Role } from '@domiq/auth';
import type { JWK } from 'jose';
import { SERVICE_NAMES, type ServiceName } from '@domiq/proto/services';
import { registerTestSecret } from './test-logs.ts';

export interface TestCaller {
  accountId: string;
  role?: Role;
  propertyIds?: readonly string[];
  /** The user id (sub); a fresh one when left out. */
  userId?: string;
  ttlSeconds?: number;
}

/**
 * A signing key pair of the test process (like the development keys, in a temp folder), the JWKS file services
 * verify against, and each service's own token in a file, the way a Kubernetes Secret would mount it.
 */
export class TestAuthority {
  readonly dir: string;
  readonly files: KeyFiles;
  readonly #privateJwk: JWK;
  readonly #serviceTokenFiles = new Map<ServiceName, string>();

  private constructor(dir: string, files: KeyFiles, privateJwk: JWK) {
    this.dir = dir;
    this.files = files;
    this.#privateJwk = privateJwk;
  }

  static async create(dir = mkdtempSync(join(tmpdir(), 'domiq-keys-'))): Promise<TestAuthority> {
    const key = await generateSigningKey(`${DEV_KID_PREFIX}test-${crypto.randomUUID().slice(0, 8)}`);
    // Every token and the private key are registered, so the run's log scan fails if any of them is ever logged.
    registerTestSecret(String(key.privateJwk.d), 'test signing key (private part)');
    const authority = new TestAuthority(dir, writeKeyFiles(dir, key), key.privateJwk);
    const tokens = await writeServiceTokens(dir, key.privateJwk, 12 * 3600);
    for (const service of SERVICE_NAMES) {
      registerTestSecret(tokens[service].token, `service token of ${service}`);
      authority.#serviceTokenFiles.set(service, tokens[service].file);
    }
    return authority;
  }

  /** A user token (an admin of the account unless a role is given). */
  async token(caller: TestCaller): Promise<string> {
    return registerTestSecret(await mintToken(this.#privateJwk, {
      userId: caller.userId ?? crypto.randomUUID(), role: caller.role ?? 'admin', accountId: caller.accountId, propertyIds: caller.propertyIds,
    }, { ttlSeconds: caller.ttlSeconds ?? 6 * 3600 }), 'user token');
  }

  async serviceToken(service: ServiceName): Promise<string> {
    return registerTestSecret(await mintToken(this.#privateJwk, { service }, { ttlSeconds: 12 * 3600 }), `service token of ${service}`);
  }

  /** DOMIQ_JWKS and this service's DOMIQ_SERVICE_TOKEN_FILE. */
  envFor(service: ServiceName): Record<string, string> {
    return { DOMIQ_JWKS: this.files.jwks, DOMIQ_SERVICE_TOKEN_FILE: this.#serviceTokenFiles.get(service)! };
  }
}
