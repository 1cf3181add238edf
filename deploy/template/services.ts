// THE Kubernetes template for the six services: `node scripts/deploy-render.ts --write` renders it into
// deploy/k8s/services/<name>.yaml (committed, so `kubectl apply -k deploy/k8s` needs no tooling) and the peer
// addresses of deploy/k8s/configmap.yaml; deploy/test/render.test.ts fails when the committed files differ.
//
// Names, ports, the address variables and which services call peers come from the service registry
// (proto/src/services.ts). What else differs between services is in DIFFERENCES below; everything else is the
// same for all six and written once, in serviceManifests().
import { consumerSource, registry, services, type ServiceEntry, type ServiceName } from '@domiq/proto/services';
import { flow, trailing, why } from './yaml.ts';

export const NAMESPACE = 'domiq';

// ---------------------------------------------------------------------------------------------------------------
// What differs between services (beyond the registry)

export interface Resources {
  readonly requests: { readonly cpu: string; readonly memory: string };
  readonly limits: { readonly cpu: string; readonly memory: string };
}

export interface ServiceDifferences {
  /** What the service does, for the manifest's header comment. */
  readonly about: string;
  /** HorizontalPodAutoscaler maximum (the minimum is 2 for every service). */
  readonly maxReplicas: number;
  /** It stores encrypted credentials: DOMIQ_ENCRYPTION_KEY from its Secret. */
  readonly encryptionKey?: boolean;
  /** A public HTTP face: container/Service port `http`, HTTP_PORT, PUBLIC_BASE_URL, TRUST_PROXY_HOPS and an Ingress for `path`. */
  readonly http?: { readonly port: number; readonly host: string; readonly path: string; readonly trustProxyHops: number };
  /** More literal environment variables (after the ports). */
  readonly env?: Readonly<Record<string, string>>;
  /** Defaults to DEFAULT_RESOURCES. */
  readonly resources?: Resources;
}

export const DEFAULT_RESOURCES: Resources = { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } };

/** V8 heap cap: well under the memory limit, so GC kicks in before the OOM killer does. */
const MAX_OLD_SPACE_MB = 384;

export const DIFFERENCES: Record<ServiceName, ServiceDifferences> = {
  identity: { about: 'accounts, properties, teams, users, customers', maxReplicas: 6 },
  conversations: { about: 'conversations and messages', maxReplicas: 4 },
  'routing-sla': { about: 'SLA policies, agent read model, round-robin assignment', maxReplicas: 4 },
  resolutions: { about: 'resolutions for escalated conversations', maxReplicas: 4 },
  'resman-connector': {
    about: 'ResMan integrations and lead sync (calls ResMan over https)',
    maxReplicas: 4,
    encryptionKey: true,
    env: { RESMAN_TIMEOUT_MS: '10000' },
  },
  'channel-gateway': {
    about: 'provider webhooks (Twilio SMS), channels; the public face, behind the Ingress',
    // Stateless webhook intake (deduplicated by MessageSid in the database).
    maxReplicas: 10,
    encryptionKey: true,
    http: { port: 8080, host: 'webhooks.domiq.example.com', path: '/webhooks', trustProxyHops: 1 },
  },
};

// ---------------------------------------------------------------------------------------------------------------
// Names and addresses shared with the ConfigMap

/** The headless Service peers call (DNS returns every ready pod). */
export const headlessServiceName = (name: ServiceName) => `${name}-grpc`;

/** A service's gRPC address as its callers see it: the headless Service through dns:/// (round robin over pods). */
export const peerAddress = (s: ServiceEntry) => `dns:///${headlessServiceName(s.name)}.${NAMESPACE}.svc.cluster.local:${s.grpcPort}`;

/** `IDENTITY_GRPC_ADDR: dns:///...` for every service of the registry, in registry order. */
export const peerAddresses = (): [string, string][] => services.map((s) => [s.addrVar, peerAddress(s)]);

export const secretName = (name: ServiceName) => `${name}-secrets`;

/** It calls peers (registry `calls`), so it needs its own service token. */
export const callsPeers = (name: ServiceName) => registry[name].calls.length > 0;

// ---------------------------------------------------------------------------------------------------------------
// The template

const SECRET_FILE_MODE = 0o440;

/** The Kubernetes objects of one service, in file order. */
export function serviceManifests(name: ServiceName): object[] {
  const s = registry[name];
  const d = DIFFERENCES[name];
  const http = d.http;
  const token = callsPeers(name);
  const resources = d.resources ?? DEFAULT_RESOURCES;
  const selector = { 'app.kubernetes.io/name': name };
  const labels = { ...selector, 'app.kubernetes.io/part-of': NAMESPACE };
  const metadata = (objectName: string) => ({ name: objectName, namespace: NAMESPACE, labels });
  const grpcServicePort = { name: 'grpc', port: s.grpcPort, targetPort: 'grpc', protocol: 'TCP', appProtocol: 'kubernetes.io/h2c' };
  const spread = (topologyKey: string) => ({
    maxSkew: 1,
    topologyKey,
    whenUnsatisfiable: 'ScheduleAnyway',
    labelSelector: { matchLabels: selector },
    matchLabelKeys: ['pod-template-hash'],
  });
  const consumes = s.consumers.map((c) => consumerSource(c).subject);

  const header = [
    `${name}: ${d.about}.`,
    `Consumes ${consumes.length ? consumes.join(', ') : 'no events'}; calls ${token ? `${s.calls.join(', ')} (gRPC, with its own service token)` : 'no peer'}.`,
    `gRPC :${s.grpcPort}, ops :${s.opsPort} (/healthz liveness, /readyz readiness, /metrics Prometheus)${http ? `, HTTP :${http.port} (webhooks)` : ''}.`,
    'Generated by `node scripts/deploy-render.ts --write` from deploy/template/services.ts and the service registry',
    '(proto/src/services.ts): edit those, not this file.',
  ].join('\n');

  const deployment = why(header, {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NAMESPACE, labels: { ...labels, 'app.kubernetes.io/component': 'service' } },
    spec: {
      replicas: why('The HorizontalPodAutoscaler below owns the replica count between its min and max.', 2),
      revisionHistoryLimit: 5,
      minReadySeconds: 5,
      strategy: {
        type: 'RollingUpdate',
        rollingUpdate: {
          maxSurge: why('Surge first, never go below the current ready count during a rollout.', 1),
          maxUnavailable: 0,
        },
      },
      selector: { matchLabels: selector },
      template: {
        metadata: {
          labels: { ...labels, 'app.kubernetes.io/component': 'service' },
          annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(s.opsPort), 'prometheus.io/path': '/metrics' },
        },
        spec: {
          serviceAccountName: NAMESPACE,
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          terminationGracePeriodSeconds: why(
            'preStop sleep (10 s) + in-process drain, which ends by SHUTDOWN_GRACE_MS (20 s) + 5 s at the latest,\n' +
              '+ margin. Must stay above all of that or the kubelet SIGKILLs a pod that is still draining.',
            45,
          ),
          securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } },
          topologySpreadConstraints: [spread('kubernetes.io/hostname'), spread('topology.kubernetes.io/zone')],
          containers: [
            {
              name,
              image: `domiq/${name}`,
              imagePullPolicy: 'IfNotPresent',
              ports: why(`The image's CMD: node --max-semi-space-size=4 --heap-growing-percent=20 --import @domiq/telemetry/register src/main.ts (in services/${name}).`, [
                { name: 'grpc', containerPort: s.grpcPort, protocol: 'TCP' },
                { name: 'ops', containerPort: s.opsPort, protocol: 'TCP' },
                http ? { name: 'http', containerPort: http.port, protocol: 'TCP' } : undefined,
              ]),
              envFrom: [{ configMapRef: { name: 'domiq-common' } }],
              env: [
                { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
                { name: 'GRPC_PORT', value: String(s.grpcPort) },
                { name: 'OPS_PORT', value: String(s.opsPort) },
                ...(http
                  ? [
                      { name: 'HTTP_PORT', value: String(http.port) },
                      { name: 'PUBLIC_BASE_URL', value: `https://${http.host}` },
                      why(
                        'Webhooks arrive through the ingress controller, which (ingress-nginx\'s default, use-forwarded-headers\n' +
                          'off) replaces X-Forwarded-For with the address it saw: the rate limits count that one. It is the real\n' +
                          'client only if the load balancer in front keeps source addresses (externalTrafficPolicy: Local or\n' +
                          'PROXY protocol). Limits are per replica: the effective limit is replicas x WEBHOOK_RATE_LIMIT_*.',
                        { name: 'TRUST_PROXY_HOPS', value: String(http.trustProxyHops) },
                      ),
                    ]
                  : []),
                ...Object.entries(d.env ?? {}).map(([k, value]) => ({ name: k, value })),
                { name: 'OTEL_SERVICE_NAME', value: name },
                {
                  name: 'OTEL_RESOURCE_ATTRIBUTES',
                  value: `service.namespace=${NAMESPACE},deployment.environment.name=production,k8s.namespace.name=$(POD_NAMESPACE),k8s.deployment.name=${name},k8s.pod.name=$(POD_NAME)`,
                },
                why(
                  'TLS to PostgreSQL, verified (host name included) against the cluster CA mounted below. PGSSLMODE\n' +
                    'covers the ORM pool, which takes only host/port/user/password/database from DATABASE_URL.',
                  { name: 'PGSSLMODE', value: 'verify-full' },
                ),
                { name: 'NODE_EXTRA_CA_CERTS', value: '/etc/domiq/pg-ca/ca.crt' },
                why('Keep the V8 heap well under the memory limit so GC kicks in before the OOM killer does.', {
                  name: 'NODE_OPTIONS',
                  value: `--max-old-space-size=${MAX_OLD_SPACE_MB}`,
                }),
                why(`Secrets: the service's own PostgreSQL role (schema ${s.schema}); see deploy/secrets.example.yaml.`, {
                  name: 'DATABASE_URL',
                  valueFrom: { secretKeyRef: { name: secretName(name), key: 'DATABASE_URL' } },
                }),
                d.encryptionKey
                  ? why('AES-256-GCM key for credentials stored at rest: 32 random bytes, base64. Never the dev default.', {
                      name: 'DOMIQ_ENCRYPTION_KEY',
                      valueFrom: { secretKeyRef: { name: secretName(name), key: 'DOMIQ_ENCRYPTION_KEY' } },
                    })
                  : undefined,
                why(
                  'NATS: the service\'s own nkey seed, mounted from its Secret (re-read on every reconnect, so a rotated\n' +
                    'seed is picked up); its NATS user may touch only its own streams, durables and inbox (docs/nats-security.md).',
                  { name: 'NATS_NKEY_SEED_FILE', value: '/etc/domiq/nats/seed' },
                ),
                token
                  ? why(
                      'gRPC: every caller\'s token is verified against the key set of ConfigMap domiq-jwks (DOMIQ_JWKS in\n' +
                        'domiq-common); this service calls its peers (the registry\'s `calls`) with its own token, mounted from\n' +
                        'its Secret and re-read when renewed (docs/security.md). Services that call no peer get no token.',
                      { name: 'DOMIQ_SERVICE_TOKEN_FILE', value: '/etc/domiq/token/token' },
                    )
                  : undefined,
              ],
              resources: { requests: { ...resources.requests }, limits: { ...resources.limits } },
              startupProbe: why(
                'The ops server starts after migrations (under an advisory lock), the NATS connection and once the\n' +
                  "service's streams exist (the nats-provision Job creates them): allow up to 3 minutes before liveness takes over.",
                { httpGet: { path: '/healthz', port: 'ops' }, periodSeconds: 2, timeoutSeconds: 2, failureThreshold: 90 },
              ),
              readinessProbe: why('503 until main.ts called ready(), while PostgreSQL or NATS is unreachable, and from SIGTERM on.', {
                httpGet: { path: '/readyz', port: 'ops' },
                periodSeconds: 5,
                timeoutSeconds: 3,
                failureThreshold: 2,
                successThreshold: 1,
              }),
              livenessProbe: why('Process-only check: a database or broker outage must not restart pods (readiness handles that).', {
                httpGet: { path: '/healthz', port: 'ops' },
                periodSeconds: 10,
                timeoutSeconds: 3,
                failureThreshold: 3,
              }),
              lifecycle: {
                preStop: why(
                  "Keep serving while the endpoint removal propagates to kube-proxy, the Ingress controller and\n" +
                    "peers' gRPC connections; SIGTERM (and the drain) follows when the sleep ends.",
                  { exec: { command: flow(['sleep', '10']) } },
                ),
              },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                runAsNonRoot: true,
                runAsUser: 1000,
                runAsGroup: 1000,
                capabilities: { drop: flow(['ALL']) },
              },
              volumeMounts: [
                { name: 'tmp', mountPath: '/tmp' },
                { name: 'pg-ca', mountPath: '/etc/domiq/pg-ca', readOnly: true },
                { name: 'nats-nkey', mountPath: '/etc/domiq/nats', readOnly: true },
                token ? { name: 'service-token', mountPath: '/etc/domiq/token', readOnly: true } : undefined,
                { name: 'jwks', mountPath: '/etc/domiq/jwks', readOnly: true },
              ],
            },
          ],
          volumes: [
            { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
            why('CA of the CloudNativePG cluster (created by the operator): NODE_EXTRA_CA_CERTS above.', {
              name: 'pg-ca',
              secret: { secretName: 'domiq-pg-ca', items: [{ key: 'ca.crt', path: 'ca.crt' }] },
            }),
            why(`The NATS nkey seed (key NATS_NKEY_SEED of ${secretName(name)}): NATS_NKEY_SEED_FILE above.`, {
              name: 'nats-nkey',
              secret: {
                secretName: secretName(name),
                defaultMode: trailing("0440: the container's group (fsGroup 1000) reads it, nobody else", SECRET_FILE_MODE),
                items: [{ key: 'NATS_NKEY_SEED', path: 'seed' }],
              },
            }),
            token
              ? why(`The service's own gRPC token (key SERVICE_TOKEN of ${secretName(name)}): DOMIQ_SERVICE_TOKEN_FILE above.`, {
                  name: 'service-token',
                  secret: { secretName: secretName(name), defaultMode: SECRET_FILE_MODE, items: [{ key: 'SERVICE_TOKEN', path: 'token' }] },
                })
              : undefined,
            why('The public keys tokens are verified against (DOMIQ_JWKS); adding a key needs no restart.', {
              name: 'jwks',
              configMap: { name: 'domiq-jwks' },
            }),
          ],
        },
      },
    },
  });

  const service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadata(name),
    spec: {
      type: 'ClusterIP',
      selector,
      ports: [
        grpcServicePort,
        { name: 'ops', port: s.opsPort, targetPort: 'ops', protocol: 'TCP', appProtocol: 'http' },
        http ? { name: 'http', port: http.port, targetPort: 'http', protocol: 'TCP', appProtocol: 'http' } : undefined,
      ],
    },
  };

  const pdb = why("Voluntary disruptions (node drains, cluster upgrades) never take the last ready pod.", {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: metadata(name),
    spec: {
      minAvailable: 1,
      unhealthyPodEvictionPolicy: why('A pod that is not ready protects nothing: let drains evict it.', 'AlwaysAllow'),
      selector: { matchLabels: selector },
    },
  });

  const maxReplicas =
    s.consumers.length > 0
      ? why(
          'A durable consumer allows max(64, 8 x CONSUMER_CONCURRENCY) unacked messages in total, and each\n' +
            'replica pulls 2 x CONSUMER_CONCURRENCY: past 4 replicas, raise CONSUMER_CONCURRENCY instead.',
          d.maxReplicas,
        )
      : d.maxReplicas;
  const hpa = {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: metadata(name),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
      minReplicas: 2,
      maxReplicas,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }],
      behavior: {
        scaleUp: { stabilizationWindowSeconds: 0, policies: [{ type: 'Pods', value: 2, periodSeconds: 60 }] },
        scaleDown: why('Every scale-down is a graceful drain; do it slowly.', {
          stabilizationWindowSeconds: 300,
          policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }],
        }),
      },
    },
  };

  const ingress = http
    ? why(
        `Provider webhooks only: nothing but ${http.path} is published. PUBLIC_BASE_URL above must be exactly the\n` +
          'external https URL of this host, because Twilio signs the full URL it posts to.',
        {
          apiVersion: 'networking.k8s.io/v1',
          kind: 'Ingress',
          metadata: {
            ...metadata(`${name}-webhooks`),
            annotations: {
              'cert-manager.io/cluster-issuer': why('cert-manager issues the certificate (remove if TLS is terminated elsewhere).', 'letsencrypt'),
              'nginx.ingress.kubernetes.io/proxy-body-size': '1m',
            },
          },
          spec: {
            ingressClassName: 'nginx',
            tls: [{ hosts: [http.host], secretName: `${name}-webhooks-tls` }],
            rules: [
              {
                host: http.host,
                http: { paths: [{ path: http.path, pathType: 'Prefix', backend: { service: { name, port: { name: 'http' } } } }] },
              },
            ],
          },
        },
      )
    : undefined;

  const headless = why(
    "Headless: DNS returns every ready pod, so peers' gRPC clients (round_robin over dns:///) spread calls across\n" +
      'replicas instead of pinning one HTTP/2 connection to whichever pod a ClusterIP picked.',
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: metadata(headlessServiceName(name)),
      spec: { clusterIP: 'None', selector, ports: [grpcServicePort] },
    },
  );

  return [deployment, service, pdb, hpa, ingress, headless].filter((o) => o !== undefined);
}
