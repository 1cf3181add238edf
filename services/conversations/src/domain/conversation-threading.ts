import type { Channel } from '@domiq/proto/vocabulary';

/**
 * Where an inbound (non-email) message goes: the customer's latest conversation is continued while it is
 * active, reopened when it was resolved recently, and a new conversation starts otherwise.
 * Email threading by Message-ID/References comes with the email channel.
 */
export interface ThreadCandidate {
  state: string;
  lastMessageAt?: Date | null;
  resolvedAt?: Date | null;
  createdAt: Date;
}

export interface ThreadingPolicy {
  /** A quiet, unresolved conversation older than this is left behind and a new one starts. */
  idleWindowHours: number;
  /** A reply within this many days of resolution reopens the conversation. */
  reopenWindowDays: number;
}

export const DEFAULT_THREADING: ThreadingPolicy = { idleWindowHours: 24 * 7, reopenWindowDays: 7 };

export type ThreadDecision = 'continue' | 'reopen' | 'create';

export function chooseThread(latest: ThreadCandidate | null, now: Date, policy: ThreadingPolicy = DEFAULT_THREADING): ThreadDecision {
  if (!latest) return 'create';
  if (latest.state === 'resolved') {
    const resolvedAt = latest.resolvedAt ?? latest.lastMessageAt ?? latest.createdAt;
    return now.getTime() - resolvedAt.getTime() <= policy.reopenWindowDays * 86_400_000 ? 'reopen' : 'create';
  }
  const last = latest.lastMessageAt ?? latest.createdAt;
  return now.getTime() - last.getTime() <= policy.idleWindowHours * 3_600_000 ? 'continue' : 'create';
}

/** Which identity kind each channel's sender address is (exhaustive: a new channel must say). */
export const SENDER_IDENTIFIER: Record<Channel, 'IDENTIFIER_KIND_PHONE' | 'IDENTIFIER_KIND_EMAIL' | 'IDENTIFIER_KIND_SOCIAL'> = {
  sms: 'IDENTIFIER_KIND_PHONE',
  whatsapp: 'IDENTIFIER_KIND_PHONE',
  voice: 'IDENTIFIER_KIND_PHONE',
  email: 'IDENTIFIER_KIND_EMAIL',
  web_chat: 'IDENTIFIER_KIND_SOCIAL',
  facebook: 'IDENTIFIER_KIND_SOCIAL',
  instagram: 'IDENTIFIER_KIND_SOCIAL',
  twitter: 'IDENTIFIER_KIND_SOCIAL',
  api: 'IDENTIFIER_KIND_SOCIAL',
};

export function identifierKindForChannel(channel: Channel): (typeof SENDER_IDENTIFIER)[Channel] {
  return SENDER_IDENTIFIER[channel];
}
