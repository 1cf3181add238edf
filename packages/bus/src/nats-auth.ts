// NATS authorization derived from the service registry (proto/src/services.ts): one nkey user per service with
// least-privilege subject permissions, plus one platform/admin user. Pure functions (but `generateNkeys`), so
// the test server, `npm start`, the Helm values and the permission tests all render the same rules.
//
// What a service may do, and why each grant exists (nothing else is allowed; NATS denies by omission):
//  publish
//   - the subjects of the streams it owns                   its outbox relay publishes its events
//   - `dlq.<durable>` for each of its durables              EventConsumer dead-letters there
//   - `$JS.API.STREAM.INFO.<OWN STREAM>`                    Platform.start waits until its streams exist. No
//                                                           STREAM.CREATE/UPDATE, not even for its own streams:
//                                                           an update could add `sources`/`mirror` of other
//                                                           services' streams (not checked against the user's
//                                                           permissions) and read them through its own durable.
//                                                           Every stream is made by the admin provisioning step.
//   - per durable, on the stream it reads:
//     `$JS.API.CONSUMER.INFO.<S>.<durable>`                 consumers.info / consumers.update / consumers.get, and
//                                                           nats.js re-reads it when pull heartbeats go missing
//     `$JS.API.CONSUMER.CREATE.<S>.<durable>.<filter>`      consumers.add / update with the registered filter
//                                                           subject: nats.js (3.x, server >= 2.9) puts the filter
//                                                           in the subject and the server refuses a request whose
//                                                           config names another filter, so the durable cannot be
//                                                           (re)created to read anything else of the stream. Not
//                                                           granted: the unfiltered `CREATE.<S>.<durable>` and the
//                                                           pre-2.9 `DURABLE.CREATE.<S>.<durable>` (no filter check).
//     `$JS.API.CONSUMER.MSG.NEXT.<S>.<durable>`             pull requests (consume())
//     `$JS.ACK.<S>.<durable>.>`                             ack / nak / working / term
//  subscribe
//   - `_INBOX_<service>.>` only: connectNats sets nats.js' `inboxPrefix`, so request replies (JetStream API
//     answers, publish acks) and pull deliveries all arrive there. No service can subscribe to event subjects
//     (all reading goes through its own durables) nor to another service's inbox.
// Not granted: `$JS.API.INFO` (account info). nats.js calls it only from `jetstreamManager()` with the default
// `checkAPI: true`; @domiq/bus always passes `checkAPI: false`, so services never need it. Verified against a
// real nats-server by packages/bus/test/nats-permissions.test.ts.
import { createUser, fromPublic, fromSeed } from '@nats-io/nkeys';
import { streams as streamDefs, type StreamName } from '@domiq/proto/events';
import { consumerSource, services as registryServices, type ServiceEntry } from '@domiq/proto/services';

/** The platform user: full permissions; used by provisioning (every stream, the DLQ included), test helpers and operators. */
export const ADMIN_USER = 'admin';

export interface SubjectPermissions {
  publish: { allow: string[] };
  subscribe: { allow: string[] };
}

export interface NatsUser {
  /** Service name, or `admin`. */
  name: string;
  /** The user's public nkey (`U...`), or a `$VAR` reference resolved by nats-server from its environment. */
  nkey: string;
  /** Absent for the admin user (everything allowed). */
  permissions?: SubjectPermissions;
}

export interface NatsAuthorization {
  users: NatsUser[];
}

/** The inbox prefix a service's connection uses (nats.js `inboxPrefix`); its only subscribe permission. */
export function inboxPrefix(service: string): string {
  return `_INBOX_${service}`;
}

/** `IDENTITY_NKEY`, `RESMAN_CONNECTOR_NKEY`, `ADMIN_NKEY`: the env variable holding a user's public nkey. */
export function nkeyEnvVar(user: string): string {
  return `${user.toUpperCase().replaceAll('-', '_')}_NKEY`;
}

/** Every user name the authorization has: the registry's services, then admin. */
export function natsUserNames(entries: readonly ServiceEntry[] = registryServices): string[] {
  return [...entries.map((e) => e.name), ADMIN_USER];
}

/** The subject permissions of one service, derived from its registry entry alone. */
export function servicePermissions(entry: ServiceEntry): SubjectPermissions {
  const publish: string[] = [];
  for (const stream of entry.streams) publish.push(...streamDefs[stream].subjects);
  for (const c of entry.consumers) publish.push(`dlq.${c.durable}`);
  for (const stream of entry.streams) publish.push(`$JS.API.STREAM.INFO.${stream}`);
  for (const c of entry.consumers) {
    const { stream, subject } = consumerSource(c);
    publish.push(
      `$JS.API.CONSUMER.INFO.${stream}.${c.durable}`,
      `$JS.API.CONSUMER.CREATE.${stream}.${c.durable}.${subject}`,
      `$JS.API.CONSUMER.MSG.NEXT.${stream}.${c.durable}`,
      `$JS.ACK.${stream}.${c.durable}.>`,
    );
  }
  return { publish: { allow: [...new Set(publish)] }, subscribe: { allow: [`${inboxPrefix(entry.name)}.>`] } };
}

/**
 * The nats-server `authorization` block: one nkey user per registry entry with its permissions, and the admin
 * user. `nkeys` maps each user name (services and `admin`) to its public key or a `$VAR` reference.
 */
export function natsAuthorization(nkeys: Record<string, string>, entries: readonly ServiceEntry[] = registryServices): NatsAuthorization {
  const key = (name: string): string => {
    const value = nkeys[name];
    if (!value) throw new Error(`no nkey given for NATS user ${name}`);
    if (!value.startsWith('$')) fromPublic(value); // throws unless a valid public nkey
    if (!value.startsWith('$') && !value.startsWith('U')) throw new Error(`nkey of NATS user ${name} is not a user public key`);
    return value;
  };
  return {
    users: [...entries.map((e) => ({ name: e.name, nkey: key(e.name), permissions: servicePermissions(e) })), { name: ADMIN_USER, nkey: key(ADMIN_USER) }],
  };
}

/** `{ identity: '$IDENTITY_NKEY', ..., admin: '$ADMIN_NKEY' }`: public keys resolved from nats-server's environment. */
export function nkeyEnvRefs(entries: readonly ServiceEntry[] = registryServices): Record<string, string> {
  return Object.fromEntries(natsUserNames(entries).map((n) => [n, `$${nkeyEnvVar(n)}`]));
}

export interface GeneratedNkeys {
  /** User name -> seed (`SU...`): secret, give each to its service only. */
  seeds: Record<string, string>;
  /** User name -> public key (`U...`): goes into the server config. */
  publicKeys: Record<string, string>;
}

/** Fresh user nkeys for every service and admin. */
export function generateNkeys(entries: readonly ServiceEntry[] = registryServices): GeneratedNkeys {
  const seeds: Record<string, string> = {};
  const publicKeys: Record<string, string> = {};
  for (const name of natsUserNames(entries)) {
    const kp = createUser();
    seeds[name] = new TextDecoder().decode(kp.getSeed());
    publicKeys[name] = kp.getPublicKey();
  }
  return { seeds, publicKeys };
}

/** The public key of a seed (without ever echoing the seed: the error names no value). */
export function publicKeyOfSeed(seed: string): string {
  try {
    return fromSeed(new TextEncoder().encode(seed.trim())).getPublicKey();
  } catch {
    throw new Error('not a valid nkey seed');
  }
}

// ---------------------------------------------------------------------------------------------------------------
// nats-server config (2.9 syntax)

const q = (s: string): string => JSON.stringify(s);

function renderPermissions(p: SubjectPermissions, pad: string): string {
  const list = (xs: string[]) => `[\n${xs.map((x) => `${pad}      ${q(x)}`).join(',\n')}\n${pad}    ]`;
  return [
    `${pad}permissions: {`,
    `${pad}  publish: {`,
    `${pad}    allow: ${list(p.publish.allow)}`,
    `${pad}  }`,
    `${pad}  subscribe: {`,
    `${pad}    allow: ${list(p.subscribe.allow)}`,
    `${pad}  }`,
    `${pad}}`,
  ].join('\n');
}

/** The `authorization { users: [...] }` block. `$VAR` nkeys stay unquoted so nats-server resolves them from its environment. */
export function renderAuthorization(auth: NatsAuthorization): string {
  const users = auth.users.map((u) => {
    const nkey = u.nkey.startsWith('$') ? u.nkey : q(u.nkey);
    const lines = [`    # ${u.name}${u.permissions ? '' : ': platform/admin, full permissions'}`, '    {', `      nkey: ${nkey}`];
    if (u.permissions) lines.push(renderPermissions(u.permissions, '      '));
    lines.push('    }');
    return lines.join('\n');
  });
  return `authorization {\n  users: [\n${users.join('\n')}\n  ]\n}\n`;
}

export interface NatsServerConfigOptions {
  host: string;
  port: number;
  /** JetStream file store directory. */
  storeDir: string;
  authorization: NatsAuthorization;
  serverName?: string;
  /** HTTP monitoring port (`/healthz`, `/varz`); omitted: no monitoring endpoint. */
  monitorPort?: number;
}

/** A complete nats-server configuration file: listener, JetStream store, authorization. */
export function renderNatsServerConfig(o: NatsServerConfigOptions): string {
  const lines = [
    '# Generated by @domiq/bus (nats-auth.ts) from the service registry, proto/src/services.ts. Do not edit:',
    '# change the registry and regenerate. Public nkeys only; the seeds live in separate files.',
    `listen: ${q(`${o.host}:${o.port}`)}`,
  ];
  if (o.serverName) lines.push(`server_name: ${q(o.serverName)}`);
  if (o.monitorPort !== undefined) lines.push(`http: ${q(`${o.host}:${o.monitorPort}`)}`);
  lines.push('jetstream {', `  store_dir: ${q(o.storeDir)}`, '}', '');
  return `${lines.join('\n')}\n${renderAuthorization(o.authorization)}`;
}

/**
 * The same authorization as Helm values for the official NATS chart (1.x): `config.merge.authorization`, each
 * nkey as `<< $<USER>_NKEY >>` (the chart writes `<< ... >>` unquoted, so nats-server resolves the variable),
 * and `container.env` feeding those variables from the `secretName` Secret.
 */
export function helmAuthorizationValues(secretName = 'nats-nkeys', entries: readonly ServiceEntry[] = registryServices): {
  authorization: { users: Array<{ nkey: string; permissions?: SubjectPermissions }> };
  env: Record<string, { valueFrom: { secretKeyRef: { name: string; key: string } } }>;
} {
  const auth = natsAuthorization(nkeyEnvRefs(entries), entries);
  return {
    authorization: { users: auth.users.map((u) => ({ nkey: `<< ${u.nkey} >>`, ...(u.permissions ? { permissions: u.permissions } : {}) })) },
    env: Object.fromEntries(natsUserNames(entries).map((n) => [nkeyEnvVar(n), { valueFrom: { secretKeyRef: { name: secretName, key: nkeyEnvVar(n) } } }])),
  };
}

/** Streams the platform (admin) provisions: every registry stream, including the shared DLQ. No service creates any. */
export function platformStreams(): StreamName[] {
  return Object.keys(streamDefs) as StreamName[];
}

/**
 * Refuses a consumer the registry does not list for this service: its NATS user has no permission for it, so it
 * would fail later with a bare permissions violation. Called by Platform.consume() at start-up.
 */
export function assertRegisteredConsumer(service: string, durable: string, subject: string, entries: readonly ServiceEntry[] = registryServices): void {
  const entry = entries.find((e) => e.name === service);
  if (!entry) throw new Error(`service "${service}" is not in the service registry (proto/src/services.ts)`);
  const found = entry.consumers.find((c) => c.durable === durable);
  const hint = `add { durable: '${durable}', event: ... } to registry['${service}'].consumers in proto/src/services.ts (that also grants its NATS permissions)`;
  if (!found) throw new Error(`${service}: consumer "${durable}" (${subject}) is not in the service registry: ${hint}`);
  const registered = consumerSource(found).subject;
  if (registered !== subject) {
    throw new Error(`${service}: consumer "${durable}" reads ${subject}, but the service registry says it reads ${registered}: fix the handler or proto/src/services.ts`);
  }
}
