/**
 * The six services' names: one spelling each. Folders, npm packages, Kubernetes objects, the registry, durables and
 * NATS subjects use it as is (`channel-gateway.message.received`); identifiers that cannot hold a hyphen use it with
 * `_` (proto package `domiq.channel_gateway.v1`, PostgreSQL schema `channel_gateway`, stream `CHANNEL_GATEWAY`).
 */
export const SERVICE_NAMES = ['identity', 'conversations', 'routing-sla', 'resolutions', 'resman-connector', 'channel-gateway'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** The service's name where a hyphen cannot go: PostgreSQL schema, proto package segment. */
export function snakeName(name: ServiceName): string {
  return name.replaceAll('-', '_');
}

/** The JetStream stream that holds the service's events. */
export type StreamOf<N extends ServiceName> = Uppercase<N extends `${infer A}-${infer B}` ? `${A}_${B}` : N>;

export function streamOf<N extends ServiceName>(name: N): StreamOf<N> {
  return snakeName(name).toUpperCase() as StreamOf<N>;
}
