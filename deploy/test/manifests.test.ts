// Static checks of the deployment in deploy/: every Kubernetes manifest is parsed (no cluster needed) and each
// of the six services is checked for what graceful, zero-loss operation relies on: probes on the ops port the
// README documents, a termination grace period that covers preStop + the in-process drain, a PDB and an HPA
// that select it, a Service with its gRPC port, and secrets that only ever come from Secret references.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { helmAuthorizationValues, natsUserNames, nkeyEnvVar } from '@domiq/bus/nats-auth';
import { HELM_NKEYS_SECRET, updateHelmValues } from '../../scripts/nats-config.ts';
import { registry } from '@domiq/proto/services';
import { SERVICE_ENV, SERVICE_NODE_FLAGS } from '@domiq/testkit';

const deployDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = resolve(deployDir, '..');
const k8sDir = join(deployDir, 'k8s');

const SERVICES = ['identity', 'conversations', 'routing-sla', 'resolutions', 'resman-connector', 'channel-gateway'] as const;
type ServiceName = (typeof SERVICES)[number];
/** The services that hold encrypted credentials and so need DOMIQ_ENCRYPTION_KEY. */
const NEEDS_ENCRYPTION_KEY: readonly ServiceName[] = ['channel-gateway', 'resman-connector'];
/** What the process allows itself after SHUTDOWN_GRACE_MS before it exits on its own (packages/runtime platform.ts). */
const HARD_STOP_MARGIN_S = 5;
/** The platform default when SHUTDOWN_GRACE_MS is not set (packages/config). */
const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;

// ---------------------------------------------------------------------------------------------------------------
// Loading

type Obj = Record<string, any>;
interface Manifest {
  file: string;
  obj: Obj;
}

function yamlFilesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...yamlFilesUnder(path));
    else if (/\.ya?ml$/.test(entry.name)) out.push(path);
  }
  return out.sort();
}

function parseYamlFile(file: string): Obj[] {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'), { merge: true });
  const out: Obj[] = [];
  for (const doc of docs) {
    if (doc.errors.length > 0) throw new Error(`${relative(repoRoot, file)}: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value: unknown = doc.toJS();
    if (value !== null && value !== undefined) out.push(value as Obj);
  }
  return out;
}

/** Ports per process from the README's "## Ports" table: `| identity | 50051 | 9101 | |`. */
function readmePorts(): Map<string, { grpc: number; ops: number }> {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const section = readme.split(/^## /m).find((s) => s.startsWith('Ports'));
  if (!section) throw new Error('README.md has no "## Ports" section');
  const ports = new Map<string, { grpc: number; ops: number }>();
  for (const line of section.split('\n')) {
    const m = /^\|\s*([a-z][a-z-]*)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|/.exec(line);
    if (m) ports.set(m[1]!, { grpc: Number(m[2]), ops: Number(m[3]) });
  }
  return ports;
}

const k8sFiles = yamlFilesUnder(k8sDir);
const kustomizationFile = k8sFiles.find((f) => /kustomization\.ya?ml$/.test(f));
const manifests: Manifest[] = k8sFiles
  .filter((f) => f !== kustomizationFile)
  .flatMap((file) => parseYamlFile(file).map((obj) => ({ file, obj })));
const ports = readmePorts();

const ofKind = (kind: string) => manifests.filter((m) => m.obj.kind === kind).map((m) => m.obj);
const configMaps = new Map(ofKind('ConfigMap').map((cm) => [cm.metadata?.name as string, (cm.data ?? {}) as Record<string, string>]));

function deploymentOf(name: ServiceName): Obj {
  const found = ofKind('Deployment').filter((d) => d.metadata?.name === name);
  expect(found, `exactly one Deployment named ${name}`).toHaveLength(1);
  return found[0]!;
}

function containerOf(deployment: Obj): Obj {
  const containers: Obj[] = deployment.spec?.template?.spec?.containers ?? [];
  const container = containers.find((c) => c.name === deployment.metadata?.name) ?? containers[0];
  expect(container, `${deployment.metadata?.name} has a container`).toBeDefined();
  return container!;
}

/** An environment variable as the container will see it: its own `env` first, then ConfigMaps from `envFrom`. */
function envValue(container: Obj, name: string): string | undefined {
  const own = (container.env ?? []).find((e: Obj) => e.name === name);
  if (own) return own.value;
  for (const source of container.envFrom ?? []) {
    const cmName = source.configMapRef?.name;
    if (cmName === undefined) continue;
    const data = configMaps.get(cmName);
    expect(data, `ConfigMap ${cmName} (envFrom of ${container.name}) is in deploy/k8s`).toBeDefined();
    const value = data?.[name];
    if (value !== undefined) return String(value);
  }
  return undefined;
}

/** A probe's or Service's port (number or name) as a container port number. */
function resolvePort(container: Obj, port: unknown): number | undefined {
  if (typeof port === 'number') return port;
  const named = (container.ports ?? []).find((p: Obj) => p.name === port);
  return named?.containerPort;
}

function containerPort(container: Obj, name: string): number | undefined {
  return (container.ports ?? []).find((p: Obj) => p.name === name)?.containerPort;
}

function selects(matchLabels: Record<string, string> | undefined, podLabels: Record<string, string>): boolean {
  if (!matchLabels || Object.keys(matchLabels).length === 0) return false;
  return Object.entries(matchLabels).every(([k, v]) => podLabels[k] === v);
}

/** Seconds the preStop hook waits (`exec: sleep N` or the native `sleep: { seconds }` action). */
function preStopSeconds(container: Obj): number {
  const preStop = container.lifecycle?.preStop;
  if (!preStop) return 0;
  if (typeof preStop.sleep?.seconds === 'number') return preStop.sleep.seconds;
  const cmd: unknown[] = preStop.exec?.command ?? [];
  const joined = cmd.map(String).join(' ');
  const m = /\bsleep\s+(\d+)/.exec(joined);
  return m ? Number(m[1]) : 0;
}

const SECRET_LIKE = /(PASSWORD|SECRET|TOKEN|_KEY$|^DATABASE_URL$|CREDENTIAL)/;

// ---------------------------------------------------------------------------------------------------------------

describe('deploy/k8s', () => {
  it('parses, and documents the six services in the README ports table', () => {
    expect(manifests.length).toBeGreaterThan(0);
    for (const m of manifests) {
      expect(typeof m.obj.apiVersion, `${relative(repoRoot, m.file)}: apiVersion`).toBe('string');
      expect(typeof m.obj.kind, `${relative(repoRoot, m.file)}: kind`).toBe('string');
      expect(typeof m.obj.metadata?.name, `${relative(repoRoot, m.file)}: metadata.name`).toBe('string');
    }
    for (const name of SERVICES) expect(ports.has(name), `README ports table lists ${name}`).toBe(true);
  });

  it('kustomization.yaml lists every manifest file (and only existing ones) in namespace domiq', () => {
    expect(kustomizationFile, 'deploy/k8s/kustomization.yaml exists').toBeDefined();
    const [kustomization] = parseYamlFile(kustomizationFile!);
    expect(kustomization?.kind).toBe('Kustomization');
    expect(kustomization?.namespace).toBe('domiq');
    const listed: string[] = (kustomization?.resources ?? []).map((r: string) => resolve(k8sDir, r));
    for (const file of listed) expect(existsSync(file), `${relative(repoRoot, file)} (listed in kustomization) exists`).toBe(true);
    const onDisk = k8sFiles.filter((f) => f !== kustomizationFile);
    expect([...listed].sort()).toEqual(onDisk);
    for (const m of manifests) {
      const ns = m.obj.metadata?.namespace;
      if (ns !== undefined) expect(ns, `${m.obj.kind}/${m.obj.metadata?.name} namespace`).toBe('domiq');
    }
  });

  it('holds no secret values: no Secret objects, no credentials in ConfigMaps or env literals', () => {
    expect(ofKind('Secret'), 'Secrets are created out of band (see deploy/secrets.example.yaml)').toEqual([]);
    for (const [name, data] of configMaps) {
      for (const key of Object.keys(data)) expect(SECRET_LIKE.test(key), `ConfigMap ${name} must not carry ${key}`).toBe(false);
    }
    for (const deployment of ofKind('Deployment')) {
      for (const container of [...(deployment.spec?.template?.spec?.containers ?? []), ...(deployment.spec?.template?.spec?.initContainers ?? [])]) {
        for (const env of container.env ?? []) {
          // A *_FILE variable is the path of a mounted secret, not the secret.
          if (SECRET_LIKE.test(env.name) && !env.name.endsWith('_FILE')) {
            expect(env.value, `${deployment.metadata?.name}: ${env.name} must not be a literal`).toBeUndefined();
            expect(env.valueFrom?.secretKeyRef, `${deployment.metadata?.name}: ${env.name} comes from a secretKeyRef`).toBeDefined();
          }
        }
      }
    }
    for (const file of k8sFiles) {
      const text = readFileSync(file, 'utf8');
      expect(/postgres(ql)?:\/\/[^\s:/@"']+:[^\s@"']+@/.test(text), `${relative(repoRoot, file)} contains no database URL with a password`).toBe(false);
    }
  });

  describe.each(SERVICES)('%s', (name) => {
    const expected = () => {
      const p = ports.get(name);
      expect(p, `README ports for ${name}`).toBeDefined();
      return p!;
    };

    it('Deployment: at least 2 replicas, ports and env as in the README, bound to 0.0.0.0', () => {
      const deployment = deploymentOf(name);
      const container = containerOf(deployment);
      const { grpc, ops } = expected();
      expect(deployment.spec?.replicas ?? 1).toBeGreaterThanOrEqual(2);
      expect(containerPort(container, 'grpc')).toBe(grpc);
      expect(containerPort(container, 'ops')).toBe(ops);
      expect(envValue(container, 'GRPC_PORT')).toBe(String(grpc));
      expect(envValue(container, 'OPS_PORT')).toBe(String(ops));
      expect(envValue(container, 'BIND_HOST')).toBe('0.0.0.0');
      expect(envValue(container, 'OTEL_SERVICE_NAME')).toBe(name);
      expect(envValue(container, 'OTEL_EXPORTER_OTLP_ENDPOINT')).toMatch(/^https?:\/\//);
      expect(envValue(container, 'NATS_STREAM_REPLICAS')).toBe('3');
      expect(envValue(container, 'NATS_URL')?.split(',').length, 'NATS_URL lists the cluster').toBeGreaterThanOrEqual(3);
      // Peers through their headless Services (dns:/// so the clients balance over every pod), on the README's ports.
      for (const peer of SERVICES) {
        const variable = `${peer.toUpperCase().replaceAll('-', '_')}_GRPC_ADDR`;
        expect(envValue(container, variable), variable).toMatch(new RegExp(`^dns:///${peer}-grpc(\\.[a-z0-9.-]+)?:${ports.get(peer)?.grpc}$`));
      }
      const annotations = deployment.spec?.template?.metadata?.annotations ?? {};
      expect(annotations['prometheus.io/scrape']).toBe('true');
      expect(annotations['prometheus.io/port']).toBe(String(ops));
      expect(annotations['prometheus.io/path']).toBe('/metrics');
    });

    it('probes: readiness GET /readyz and liveness GET /healthz on the ops port, plus a startup probe', () => {
      const container = containerOf(deploymentOf(name));
      const { ops } = expected();
      const readiness = container.readinessProbe?.httpGet;
      const liveness = container.livenessProbe?.httpGet;
      const startup = container.startupProbe?.httpGet;
      expect(readiness?.path).toBe('/readyz');
      expect(resolvePort(container, readiness?.port)).toBe(ops);
      expect(liveness?.path).toBe('/healthz');
      expect(resolvePort(container, liveness?.port)).toBe(ops);
      expect(startup, 'startupProbe.httpGet').toBeDefined();
      expect(resolvePort(container, startup?.port)).toBe(ops);
    });

    it('graceful shutdown: terminationGracePeriodSeconds covers preStop + SHUTDOWN_GRACE_MS (+ the hard-stop margin)', () => {
      const deployment = deploymentOf(name);
      const container = containerOf(deployment);
      const graceMs = Number(envValue(container, 'SHUTDOWN_GRACE_MS') ?? DEFAULT_SHUTDOWN_GRACE_MS);
      expect(Number.isInteger(graceMs) && graceMs > 0, 'SHUTDOWN_GRACE_MS is a positive integer').toBe(true);
      const terminationGrace: unknown = deployment.spec?.template?.spec?.terminationGracePeriodSeconds;
      expect(typeof terminationGrace).toBe('number');
      expect(terminationGrace as number).toBeGreaterThan(graceMs / 1000);
      const preStop = preStopSeconds(container);
      expect(preStop, 'a preStop sleep lets endpoint removal propagate before SIGTERM').toBeGreaterThan(0);
      expect(terminationGrace as number).toBeGreaterThan(preStop + graceMs / 1000 + HARD_STOP_MARGIN_S);
    });

    it('runs unprivileged with a read-only root filesystem and sized resources', () => {
      const deployment = deploymentOf(name);
      const container = containerOf(deployment);
      const podSecurity = deployment.spec?.template?.spec?.securityContext ?? {};
      const security = container.securityContext ?? {};
      expect(security.runAsNonRoot ?? podSecurity.runAsNonRoot).toBe(true);
      expect(security.readOnlyRootFilesystem).toBe(true);
      expect(security.allowPrivilegeEscalation).toBe(false);
      for (const kind of ['requests', 'limits'] as const) {
        expect(container.resources?.[kind]?.cpu, `resources.${kind}.cpu`).toBeDefined();
        expect(container.resources?.[kind]?.memory, `resources.${kind}.memory`).toBeDefined();
      }
    });

    it('secrets: DATABASE_URL (and DOMIQ_ENCRYPTION_KEY where used) come from secretKeyRef', () => {
      const container = containerOf(deploymentOf(name));
      const fromSecret = (variable: string) => {
        const env = (container.env ?? []).find((e: Obj) => e.name === variable);
        expect(env, `${variable} is set explicitly (never left to its development default)`).toBeDefined();
        expect(env?.value, `${variable} is not a literal`).toBeUndefined();
        expect(env?.valueFrom?.secretKeyRef?.name, `${variable} secretKeyRef.name`).toEqual(expect.any(String));
        expect(env?.valueFrom?.secretKeyRef?.key, `${variable} secretKeyRef.key`).toBe(variable);
        expect(env?.valueFrom?.secretKeyRef?.optional ?? false, `${variable} is required`).toBe(false);
      };
      fromSecret('DATABASE_URL');
      if (NEEDS_ENCRYPTION_KEY.includes(name)) fromSecret('DOMIQ_ENCRYPTION_KEY');
      for (const source of container.envFrom ?? []) {
        expect(source.secretRef, 'no whole-Secret envFrom: each secret is referenced by key').toBeUndefined();
      }
    });

    it('NATS: its nkey seed is mounted read-only from a Secret and NATS_NKEY_SEED_FILE points at it', () => {
      const deployment = deploymentOf(name);
      const container = containerOf(deployment);
      const env = (container.env ?? []).find((e: Obj) => e.name === 'NATS_NKEY_SEED_FILE');
      expect(env?.value, 'NATS_NKEY_SEED_FILE is a path').toMatch(/^\/.+\/[^/]+$/);
      expect((container.env ?? []).some((e: Obj) => e.name === 'NATS_NKEY_SEED'), 'the seed is never an env value').toBe(false);
      const path: string = env.value;
      const dir = path.slice(0, path.lastIndexOf('/'));
      const file = path.slice(path.lastIndexOf('/') + 1);
      const mount = (container.volumeMounts ?? []).find((m: Obj) => m.mountPath === dir);
      expect(mount, `a volume is mounted at ${dir}`).toBeDefined();
      expect(mount.readOnly).toBe(true);
      expect(mount.subPath, 'no subPath: a rotated Secret must reach the file').toBeUndefined();
      const volume = (deployment.spec?.template?.spec?.volumes ?? []).find((v: Obj) => v.name === mount.name);
      expect(volume?.secret?.secretName, `volume ${mount.name} is a Secret`).toBe(`${name}-secrets`);
      const item = (volume.secret.items ?? []).find((i: Obj) => i.path === file);
      expect(item?.key, `the Secret key mounted as ${file}`).toBe('NATS_NKEY_SEED');
      expect(volume.secret.defaultMode, 'defaultMode is set').toEqual(expect.any(Number));
      expect(volume.secret.defaultMode & 0o007, 'the seed is not world-readable').toBe(0);
    });

    it('gRPC auth: a caller of peers (registry `calls`) has its service token mounted read-only from its Secret, no other service has one; the JWKS from domiq-jwks', () => {
      const deployment = deploymentOf(name);
      const pod = deployment.spec.template.spec;
      const container = containerOf(deployment);
      const tokenFile = (container.env ?? []).find((e: Obj) => e.name === 'DOMIQ_SERVICE_TOKEN_FILE')?.value as string | undefined;
      expect((container.env ?? []).some((e: Obj) => e.name === 'DOMIQ_SERVICE_TOKEN'), 'the token is never an env value').toBe(false);
      const mountOf = (path: string) => (container.volumeMounts ?? []).find((m: Obj) => path.startsWith(`${m.mountPath}/`));
      if (registry[name].calls.length > 0) {
        expect(tokenFile, 'DOMIQ_SERVICE_TOKEN_FILE').toMatch(/^\/.+\/[^/]+$/);
        const tokenMount = mountOf(tokenFile!);
        expect(tokenMount?.readOnly).toBe(true);
        const tokenVolume = (pod.volumes ?? []).find((v: Obj) => v.name === tokenMount?.name);
        expect(tokenVolume?.secret?.secretName).toBe(`${name}-secrets`);
        expect(tokenVolume?.secret?.items?.map((i: Obj) => `${i.key}->${i.path}`)).toEqual([`SERVICE_TOKEN->${tokenFile!.split('/').at(-1)}`]);
      } else {
        expect(tokenFile, `${name} calls no peer: no DOMIQ_SERVICE_TOKEN_FILE`).toBeUndefined();
        const tokenItems = (pod.volumes ?? []).flatMap((v: Obj) => v.secret?.items ?? []).filter((i: Obj) => i.key === 'SERVICE_TOKEN');
        expect(tokenItems, `${name} calls no peer: no service token mounted`).toEqual([]);
      }
      const common = configMaps.get('domiq-common')!;
      expect(common.DOMIQ_ENV).toBe('production');
      expect(common.GRPC_REFLECTION).toBe('false');
      const jwksMount = mountOf(String(common.DOMIQ_JWKS));
      expect((pod.volumes ?? []).find((v: Obj) => v.name === jwksMount?.name)?.configMap?.name).toBe('domiq-jwks');
    });

    it('a PodDisruptionBudget (minAvailable >= 1) selects it, and only it', () => {
      const deployment = deploymentOf(name);
      const podLabels = deployment.spec?.template?.metadata?.labels ?? {};
      const pdbs = ofKind('PodDisruptionBudget').filter((p) => selects(p.spec?.selector?.matchLabels, podLabels));
      expect(pdbs, `PDB selecting ${name}`).toHaveLength(1);
      expect(pdbs[0]!.spec?.minAvailable).toBeGreaterThanOrEqual(1);
      for (const other of ofKind('Deployment').filter((d) => d.metadata?.name !== name)) {
        expect(selects(pdbs[0]!.spec?.selector?.matchLabels, other.spec?.template?.metadata?.labels ?? {}), `${name}'s PDB must not select ${other.metadata?.name}`).toBe(false);
      }
    });

    it('a HorizontalPodAutoscaler on CPU targets it with minReplicas >= 2', () => {
      const hpas = ofKind('HorizontalPodAutoscaler').filter((h) => h.spec?.scaleTargetRef?.kind === 'Deployment' && h.spec?.scaleTargetRef?.name === name);
      expect(hpas, `HPA for ${name}`).toHaveLength(1);
      const hpa = hpas[0]!;
      expect(hpa.apiVersion).toBe('autoscaling/v2');
      expect(hpa.spec?.minReplicas).toBeGreaterThanOrEqual(2);
      expect(hpa.spec?.maxReplicas).toBeGreaterThanOrEqual(hpa.spec?.minReplicas);
      expect((hpa.spec?.metrics ?? []).some((m: Obj) => m.type === 'Resource' && m.resource?.name === 'cpu')).toBe(true);
    });

    it('a Service selects it and exposes its gRPC port (and the ops port)', () => {
      const deployment = deploymentOf(name);
      const container = containerOf(deployment);
      const podLabels = deployment.spec?.template?.metadata?.labels ?? {};
      const { grpc, ops } = expected();
      const headless = ofKind('Service').find((s) => s.metadata?.name === `${name}-grpc`);
      expect(headless?.spec?.clusterIP, `headless Service ${name}-grpc (the name peers use in *_GRPC_ADDR)`).toBe('None');
      expect(selects(headless!.spec?.selector, podLabels), `Service ${name}-grpc selects the pods`).toBe(true);
      expect((headless!.spec?.ports ?? []).some((p: Obj) => p.port === grpc), `Service ${name}-grpc exposes gRPC`).toBe(true);
      const service = ofKind('Service').find((s) => s.metadata?.name === name);
      expect(service, `Service ${name}`).toBeDefined();
      expect(selects(service!.spec?.selector, podLabels), `Service ${name} selects the pods`).toBe(true);
      const servicePorts: Obj[] = service!.spec?.ports ?? [];
      const grpcPort = servicePorts.find((p) => p.port === grpc);
      expect(grpcPort, `Service ${name} port ${grpc}`).toBeDefined();
      expect(resolvePort(container, grpcPort!.targetPort ?? grpcPort!.port)).toBe(grpc);
      const opsPort = servicePorts.find((p) => p.port === ops);
      expect(opsPort, `Service ${name} port ${ops}`).toBeDefined();
      expect(resolvePort(container, opsPort!.targetPort ?? opsPort!.port)).toBe(ops);
    });
  });

  it('channel-gateway: HTTP 8080 on its Service and an Ingress for /webhooks only', () => {
    const container = containerOf(deploymentOf('channel-gateway'));
    expect(containerPort(container, 'http')).toBe(8080);
    expect(envValue(container, 'HTTP_PORT')).toBe('8080');
    expect(envValue(container, 'PUBLIC_BASE_URL')).toMatch(/^https:\/\//);
    const service = ofKind('Service').find((s) => s.metadata?.name === 'channel-gateway');
    const httpPort = (service?.spec?.ports ?? []).find((p: Obj) => p.port === 8080);
    expect(httpPort).toBeDefined();
    expect(resolvePort(container, httpPort.targetPort ?? httpPort.port)).toBe(8080);
    const ingresses = ofKind('Ingress');
    expect(ingresses.length).toBeGreaterThanOrEqual(1);
    const paths: Obj[] = ingresses.flatMap((i) => (i.spec?.rules ?? []).flatMap((r: Obj) => r.http?.paths ?? []));
    expect(paths.length).toBeGreaterThan(0);
    for (const p of paths) {
      expect(p.path).toBe('/webhooks');
      expect(p.backend?.service?.name).toBe('channel-gateway');
      const port = p.backend?.service?.port;
      expect(port?.number === 8080 || port?.name === httpPort.name, 'Ingress backend is the HTTP port').toBe(true);
    }
  });

  it('PostgreSQL: a CloudNativePG Cluster with 3 instances and a role per service', () => {
    const clusters = ofKind('Cluster').filter((c) => String(c.apiVersion).startsWith('postgresql.cnpg.io/'));
    expect(clusters).toHaveLength(1);
    const cluster = clusters[0]!;
    expect(cluster.spec?.instances).toBe(3);
    const roles: string[] = (cluster.spec?.managed?.roles ?? []).map((r: Obj) => r.name);
    for (const name of SERVICES) expect(roles, `role for ${name}`).toContain(name.replaceAll('-', '_'));
  });
});

describe('deploy/nats-values.yaml', () => {
  it('a 3-node JetStream cluster on file storage, enough for the R3 streams', () => {
    const [values] = parseYamlFile(join(deployDir, 'nats-values.yaml'));
    expect(values?.config?.cluster?.enabled).toBe(true);
    expect(values?.config?.cluster?.replicas).toBeGreaterThanOrEqual(3);
    expect(values?.config?.jetstream?.enabled).toBe(true);
    expect(values?.config?.jetstream?.fileStore?.enabled).toBe(true);
    expect(values?.config?.jetstream?.fileStore?.pvc?.enabled).toBe(true);
    const replicas = Number(configMaps.get('domiq-common')?.NATS_STREAM_REPLICAS);
    expect(replicas).toBe(3);
    expect(replicas).toBeLessThanOrEqual(values?.config?.cluster?.replicas);
  });
});

describe('deploy/nats-values.yaml: NATS authorization', () => {
  const text = readFileSync(join(deployDir, 'nats-values.yaml'), 'utf8');
  const [values] = parseYamlFile(join(deployDir, 'nats-values.yaml'));
  const generated = helmAuthorizationValues(HELM_NKEYS_SECRET);

  it('is exactly what the service registry generates (node scripts/nats-config.ts --helm --write)', () => {
    expect(values?.config?.merge?.authorization, 'config.merge.authorization').toEqual(generated.authorization);
    for (const [variable, source] of Object.entries(generated.env)) expect(values?.container?.env?.[variable], `container.env.${variable}`).toEqual(source);
    expect(updateHelmValues(text) === text, 'deploy/nats-values.yaml is out of date: run node scripts/nats-config.ts --helm --write').toBe(true);
  });

  it('one nkey user per service plus admin, each key an env reference fed from the nkeys Secret', () => {
    const users: Obj[] = values?.config?.merge?.authorization?.users ?? [];
    expect(users.map((u) => u.nkey)).toEqual(natsUserNames().map((n) => `<< $${nkeyEnvVar(n)} >>`));
    expect(users.filter((u) => !u.permissions), 'only admin is unrestricted').toHaveLength(1);
    const [nkeysSecret] = parseYamlFile(join(deployDir, 'secrets.example.yaml')).filter((s) => s.metadata?.name === HELM_NKEYS_SECRET);
    for (const n of natsUserNames()) {
      expect(values?.container?.env?.[nkeyEnvVar(n)]?.valueFrom?.secretKeyRef?.name).toBe(HELM_NKEYS_SECRET);
      expect(Object.keys(nkeysSecret?.stringData ?? {}), `example Secret ${HELM_NKEYS_SECRET} has ${nkeyEnvVar(n)}`).toContain(nkeyEnvVar(n));
    }
  });
});

describe('deploy/secrets.example.yaml', () => {
  it('holds placeholders only, for every secret the Deployments reference', () => {
    const secrets = parseYamlFile(join(deployDir, 'secrets.example.yaml'));
    for (const secret of secrets) {
      expect(secret.kind).toBe('Secret');
      expect(secret.data, `${secret.metadata?.name}: stringData placeholders only, no encoded data`).toBeUndefined();
      for (const [key, value] of Object.entries((secret.stringData ?? {}) as Record<string, string>)) {
        if (key === 'username') continue;
        expect(value, `${secret.metadata?.name}.${key} is a placeholder`).toContain('CHANGE_ME');
      }
    }
    const names = new Set(secrets.map((s) => s.metadata?.name));
    for (const deployment of ofKind('Deployment')) {
      for (const env of containerOf(deployment).env ?? []) {
        const ref = env.valueFrom?.secretKeyRef;
        if (!ref) continue;
        expect(names.has(ref.name), `example has Secret ${ref.name}`).toBe(true);
        const example = secrets.find((s) => s.metadata?.name === ref.name);
        expect(Object.keys(example?.stringData ?? {}), `example Secret ${ref.name} has key ${ref.key}`).toContain(ref.key);
      }
    }
    for (const deployment of ofKind('Deployment')) {
      for (const volume of deployment.spec?.template?.spec?.volumes ?? []) {
        const secretName = volume.secret?.secretName;
        if (!secretName || secretName === 'domiq-pg-ca') continue; // the CA is created by CloudNativePG
        expect(names.has(secretName), `example has Secret ${secretName} (volume of ${deployment.metadata?.name})`).toBe(true);
        const example = secrets.find((s) => s.metadata?.name === secretName);
        for (const item of volume.secret.items ?? []) expect(Object.keys(example?.stringData ?? {}), `example Secret ${secretName} has key ${item.key}`).toContain(item.key);
      }
    }
    const cluster = ofKind('Cluster')[0];
    for (const role of cluster?.spec?.managed?.roles ?? []) {
      if (role.passwordSecret?.name) expect(names.has(role.passwordSecret.name), `example has Secret ${role.passwordSecret.name}`).toBe(true);
    }
  });
});

describe('deploy/Dockerfile and deploy/compose.yaml', () => {
  it('the image installs the pinned pnpm on node:24-slim and starts the service the documented way', () => {
    const dockerfile = readFileSync(join(deployDir, 'Dockerfile'), 'utf8');
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { packageManager?: string };
    const pnpmVersion = /^pnpm@(.+)$/.exec(pkg.packageManager ?? '')?.[1];
    expect(pnpmVersion, 'package.json packageManager pins pnpm').toBeDefined();
    expect(dockerfile).toContain(`ARG PNPM_VERSION=${pnpmVersion}`);
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:24-slim$/m);
    expect(dockerfile).toMatch(/--frozen-lockfile/);
    expect(dockerfile).toMatch(/^WORKDIR \/app\/services\/\$\{SERVICE\}$/m);
    expect(dockerfile).toMatch(/^USER (?!0\b|root\b)\S+/m);
    expect(dockerfile).toMatch(/^STOPSIGNAL SIGTERM$/m);
    expect(dockerfile).toContain('CMD ["node", "--max-semi-space-size=4", "--heap-growing-percent=20", "--import", "@domiq/telemetry/register", "src/main.ts"]');
    // The services' memory settings, as the testkit and each package.json "start" run them.
    for (const [name, value] of Object.entries(SERVICE_ENV)) {
      if (name === 'NODE_COMPILE_CACHE') continue; // the image's own folder, checked below
      expect(dockerfile).toMatch(new RegExp(`^(ENV |    )${name}=${value}( \\\\)?$`, 'm'));
    }
    // The compile cache is filled after USER (its folder is named after the user id) for the image's service.
    expect(dockerfile).toMatch(/^ENV NODE_COMPILE_CACHE=\/app\/\.cache\/node-compile$/m);
    // With the services' V8 flags, which name the folder too.
    const warm = `RUN node ${SERVICE_NODE_FLAGS.join(' ')} /app/scripts/compile-cache.ts "\${SERVICE}"`;
    expect(dockerfile).toContain(warm);
    expect(dockerfile.indexOf(warm)).toBeGreaterThan(dockerfile.search(/^USER 1000:1000$/m));
  });

  it("each service's package.json start runs it as the testkit and the image do", () => {
    const env = Object.entries({ ...SERVICE_ENV, NODE_COMPILE_CACHE: '../../.data/compile-cache' }).map(([k, v]) => `${k}=${v}`);
    for (const name of SERVICES) {
      const pkg = JSON.parse(readFileSync(join(repoRoot, 'services', name, 'package.json'), 'utf8')) as { scripts: { start: string } };
      expect(pkg.scripts.start, name).toBe([...env, 'node', ...SERVICE_NODE_FLAGS, '--import', '@domiq/telemetry/register', 'src/main.ts'].join(' '));
    }
  });

  it('compose runs the six services on the README ports plus postgres:15, NATS with JetStream and the ResMan simulator', () => {
    const [compose] = parseYamlFile(join(deployDir, 'compose.yaml'));
    const services = (compose?.services ?? {}) as Record<string, Obj>;
    for (const name of SERVICES) {
      const service = services[name];
      expect(service, `compose service ${name}`).toBeDefined();
      expect(service?.build?.dockerfile).toBe('deploy/Dockerfile');
      expect(service?.build?.args?.SERVICE).toBe(name);
      expect(service?.environment?.GRPC_PORT).toBe(String(ports.get(name)?.grpc));
      expect(service?.environment?.OPS_PORT).toBe(String(ports.get(name)?.ops));
      expect(service?.environment?.BIND_HOST).toBe('0.0.0.0');
    }
    expect(services.postgres?.image).toBe('postgres:15');
    expect(services.nats?.command).toContain('-js');
    expect(services['resman-sim']?.command).toEqual(['node', 'src/main.ts']);
    expect(services['resman-sim']?.working_dir).toBe('/app/packages/resman-sim');
  });

  it('compose gives every service the development key set, and each caller of a peer its own token', () => {
    const [compose] = parseYamlFile(join(deployDir, 'compose.yaml'));
    const services = (compose?.services ?? {}) as Record<string, Obj>;
    expect(services['dev-keys']?.command?.join(' ')).toContain('scripts/dev-keys.ts --dir /keys');
    for (const name of SERVICES) {
      const service = services[name]!;
      expect(service.environment?.DOMIQ_JWKS, name).toBe('/keys/jwks.json');
      expect(service.volumes, name).toContain('keys:/keys:ro');
      expect(service.depends_on?.['dev-keys']?.condition, name).toBe('service_completed_successfully');
      const token = service.environment?.DOMIQ_SERVICE_TOKEN_FILE;
      expect(token, `${name} calls peers, so it needs its token`).toBe(registry[name].calls.length ? `/keys/${name}.token` : undefined);
    }
  });
});
