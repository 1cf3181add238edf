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

/** Which identity kind a channel's sender address is. */
export function identifierKindForChannel(channel: string): 'IDENTIFIER_KIND_PHONE' | 'IDENTIFIER_KIND_EMAIL' | 'IDENTIFIER_KIND_SOCIAL' {
  if (channel === 'sms' || channel === 'whatsapp' || channel === 'voice') return 'IDENTIFIER_KIND_PHONE';
  if (channel === 'email') return 'IDENTIFIER_KIND_EMAIL';
  return 'IDENTIFIER_KIND_SOCIAL';
}
