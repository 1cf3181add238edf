// What a caller meets at every gRPC port: tokens, reasons, health left open, reflection guarded outside development.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentials, makeGenericClientConstructor, Metadata, status, type Client, type ServiceError } from '@grpc/grpc-js';
import { createClient } from '@domiq/grpc';
import { IdentityServiceClient } from '@domiq/proto/identity';
import { startTestStack, type TestStack } from '@domiq/testkit';

let stack: TestStack;
let accountId: string;

beforeAll(async () => {
  // Outside development: reflection stays on (GRPC_REFLECTION=true) but admits only admins, engineers and services.
  stack = await startTestStack({ services: ['identity'], env: { DOMIQ_ENV: 'staging', GRPC_REFLECTION: 'true' } });
  accountId = await stack.createAccount('Acme');
});
afterAll(async () => stack?.stop());

const raw = { serialize: (b: Buffer) => b, deserialize: (b: Buffer) => b };
const Probe = makeGenericClientConstructor({
  Check: { path: '/grpc.health.v1.Health/Check', requestStream: false, responseStream: false, requestSerialize: raw.serialize, requestDeserialize: raw.deserialize, responseSerialize: raw.serialize, responseDeserialize: raw.deserialize },
  Info: { path: '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo', requestStream: true, responseStream: true, requestSerialize: raw.serialize, requestDeserialize: raw.deserialize, responseSerialize: raw.serialize, responseDeserialize: raw.deserialize },
}, 'Probe');
type ProbeClient = Client & { Check(req: Buffer, md: Metadata, cb: (err: ServiceError | null, res: Buffer) => void): void; Info(md: Metadata): import('node:stream').Duplex };

function reflectionList(client: ProbeClient, token?: string): Promise<string> {
  const md = new Metadata();
  if (token) md.set('authorization', `Bearer ${token}`);
  return new Promise((resolve, reject) => {
    const call = client.Info(md);
    call.on('data', (b: Buffer) => {
      resolve(b.toString('latin1'));
      call.end();
    });
    call.on('error', reject);
    call.write(Buffer.from([0x3a, 0x00])); // ServerReflectionRequest{list_services: ""}
  });
}

describe('gRPC authentication', () => {
  it('leaves the standard health check open (probes carry no token)', async () => {
    const client = new Probe(stack.grpcAddr('identity'), credentials.createInsecure()) as unknown as ProbeClient;
    const health = await new Promise<Buffer>((resolve, reject) => client.Check(Buffer.alloc(0), new Metadata(), (err, res) => (err ? reject(err) : resolve(res))));
    expect([...health]).toEqual([0x08, 0x01]);
    client.close();
  });

  it('guards reflection outside development like any other method', async () => {
    const client = new Probe(stack.grpcAddr('identity'), credentials.createInsecure()) as unknown as ProbeClient;
    await expect(reflectionList(client)).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
    await expect(reflectionList(client, await stack.token({ accountId, role: 'agent' }))).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
    expect(await reflectionList(client, await stack.token({ accountId, role: 'engineer' }))).toContain('domiq.identity.v1.IdentityService');
    client.close();
  });

  it('says why a token is refused', async () => {
    const identity = createClient(IdentityServiceClient, stack.grpcAddr('identity')).client;
    const req = { accountId, propertyId: crypto.randomUUID() };
    await expect(identity.getProperty(req)).rejects.toMatchObject({ code: status.UNAUTHENTICATED, details: expect.stringContaining('missing authorization') });
    await expect(identity.getProperty(req, { token: 'abc' })).rejects.toMatchObject({ code: status.UNAUTHENTICATED, details: expect.stringContaining('malformed') });
    const expired = await stack.token({ accountId, ttlSeconds: -1 });
    await expect(identity.getProperty(req, { token: expired })).rejects.toMatchObject({ code: status.UNAUTHENTICATED, details: 'token expired' });
    const agent = await stack.token({ accountId, role: 'agent' });
    await expect(identity.createTeam({ accountId, name: 'x', routingMode: '', id: '' }, { token: agent })).rejects.toMatchObject({
      code: status.PERMISSION_DENIED, details: expect.stringContaining('role agent may not call /domiq.identity.v1.IdentityService/CreateTeam'),
    });
  });

  it('admits a service only on the methods that list it, for the account the request names', async () => {
    const identity = createClient(IdentityServiceClient, stack.grpcAddr('identity')).client;
    const phone = { accountId, kind: 'IDENTIFIER_KIND_PHONE' as const, value: '+14155550123', network: '', displayName: '', defaultRegion: 'US' };
    const asConversations = { token: await stack.auth.serviceToken('conversations') };
    const first = (await identity.resolveCustomer(phone, asConversations)).customer!;
    expect(first.accountId).toBe(accountId);
    // The same service for another account's event: that account's own customer, not the first one.
    const other = await stack.createAccount('Other');
    const second = (await identity.resolveCustomer({ ...phone, accountId: other }, asConversations)).customer!;
    expect(second.accountId).toBe(other);
    expect(second.id).not.toBe(first.id);
    await expect(identity.resolveCustomer(phone, { token: await stack.auth.serviceToken('routing-sla') })).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
    await expect(identity.createUser({ accountId, email: 'x@y.z', firstName: 'a', lastName: 'b', role: 'ROLE_ADMIN', teamId: '', skills: [], maxConcurrentConversations: 1, id: '' }, { token: await stack.auth.serviceToken('conversations') }))
      .rejects.toMatchObject({ code: status.PERMISSION_DENIED });
  });
});
