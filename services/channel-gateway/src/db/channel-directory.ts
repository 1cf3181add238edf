import type { MikroORM } from '@domiq/db';
import type { SecretBox } from '@domiq/secrets';
import { Channel, type ChannelRow } from './channel-gateway.entities.ts';

export interface ResolvedChannel {
  channel: ChannelRow;
  /** Decrypted credentials JSON, or null when the channel has none. */
  credentials: string | null;
}

/**
 * Channels by key for the webhook hot path: one query and one decryption per key per TTL instead of per
 * request. An upsert in this process invalidates at once; other replicas see a change within the TTL.
 */
export class ChannelDirectory {
  readonly #orm: MikroORM;
  readonly #box: SecretBox;
  readonly #ttlMs: number;
  readonly #entries = new Map<string, { value: ResolvedChannel | null; expires: number }>();

  constructor(orm: MikroORM, box: SecretBox, ttlMs = 10_000) {
    this.#orm = orm;
    this.#box = box;
    this.#ttlMs = ttlMs;
  }

  async byKey(channelKey: string): Promise<ResolvedChannel | null> {
    const hit = this.#entries.get(channelKey);
    if (hit && hit.expires > Date.now()) return hit.value;
    const channel = await this.#orm.em.fork({ clear: true }).findOne(Channel, { channelKey });
    const value = channel ? { channel, credentials: channel.credentialsEncrypted ? this.#box.decrypt(channel.credentialsEncrypted) : null } : null;
    // Bounded: unknown keys from scanners must not grow the map without limit.
    if (this.#entries.size > 10_000) this.#entries.clear();
    this.#entries.set(channelKey, { value, expires: Date.now() + this.#ttlMs });
    return value;
  }

  /** A channel by id within its account, for sending (cached like byKey, under its key). */
  async byId(accountId: string, channelId: string): Promise<ResolvedChannel | null> {
    const channel = await this.#orm.em.fork({ clear: true }).findOne(Channel, { id: channelId, accountId }, { fields: ['channelKey'] });
    return channel ? this.byKey(channel.channelKey) : null;
  }

  invalidate(channelKey: string): void {
    this.#entries.delete(channelKey);
  }
}
