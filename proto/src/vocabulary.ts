// The shared vocabularies (proto/domiq/common/v1/vocabulary.proto) as the values services store and reason with:
// `Channel` is 'web_chat' | 'email' | ..., `CHANNELS` lists them, and `channels.fromProto(msg.channel, 'channel')` /
// `channels.toProto('sms')` convert at the contract's edge. Everything is derived from the generated enums, so a value
// added to the .proto appears here and makes every exhaustive `Record<Channel, ...>` fail the type check until it
// has its entry.
import {
  Channel as ChannelEnum, ConversationState as ConversationStateEnum, IssueType as IssueTypeEnum, LeadStatus as LeadStatusEnum,
  Role as RoleEnum, Severity as SeverityEnum, SlaTier as SlaTierEnum,
} from '../gen/domiq/common/v1/vocabulary.ts';

export { ChannelEnum, ConversationStateEnum, IssueTypeEnum, LeadStatusEnum, RoleEnum, SeverityEnum, SlaTierEnum };

type Keep = 'lower' | 'upper';
type Suffix<E extends string, P extends string> = E extends `${P}UNSPECIFIED` | 'UNRECOGNIZED' ? never : E extends `${P}${infer S}` ? S : never;
type Stored<E extends string, P extends string, K extends Keep> = K extends 'lower' ? Lowercase<Suffix<E, P>> : Suffix<E, P>;

/** A value that is not (or not any more) one of the vocabulary's; `field` names where it came from. */
export class UnknownVocabularyValueError extends Error {
  override name = 'UnknownVocabularyValueError';
  readonly field: string;
  readonly problem: string;
  constructor(field: string, problem: string) {
    super(`${field}: ${problem}`);
    this.field = field;
    this.problem = problem;
  }
}

export interface Vocabulary<V extends string, E extends string> {
  /** The stored values, in the .proto's order. */
  readonly values: readonly V[];
  is(value: string): value is V;
  /** The stored value of a proto enum value; UNSPECIFIED or UNRECOGNIZED throws naming `field`. */
  fromProto(value: E, field: string): V;
  /** Like fromProto, but UNSPECIFIED gives `fallback` (an optional field left out). */
  fromProtoOr<F>(value: E, field: string, fallback: F): V | F;
  toProto(value: V): E;
  /** A stored string from the database or another system; anything else throws naming `field`. */
  parse(value: string, field: string): V;
}

function vocabulary<const E extends Record<string, string>, const P extends string, const K extends Keep>(enumObject: E, prefix: P, keep: K): Vocabulary<Stored<E[keyof E], P, K>, E[keyof E]> {
  type V = Stored<E[keyof E], P, K>;
  const pairs = Object.values(enumObject)
    .filter((e) => e.startsWith(prefix) && e !== `${prefix}UNSPECIFIED`)
    .map((e) => {
      const suffix = e.slice(prefix.length);
      return [(keep === 'lower' ? suffix.toLowerCase() : suffix) as V, e as E[keyof E]] as const;
    });
  const toProto = new Map<string, E[keyof E]>(pairs);
  const fromProto = new Map<string, V>(pairs.map(([v, e]) => [e, v]));
  const values = pairs.map(([v]) => v);
  const listing = values.join(', ');
  return {
    values,
    is: (value): value is V => toProto.has(value),
    fromProto(value, field) {
      const v = fromProto.get(value);
      if (v === undefined) throw new UnknownVocabularyValueError(field, value === `${prefix}UNSPECIFIED` ? 'is required' : `must be one of ${listing}`);
      return v;
    },
    fromProtoOr(value, field, fallback) {
      return value === `${prefix}UNSPECIFIED` ? fallback : this.fromProto(value, field);
    },
    toProto(value) {
      const e = toProto.get(value);
      if (e === undefined) throw new UnknownVocabularyValueError('value', `${String(value)} is not one of ${listing}`);
      return e;
    },
    parse(value, field) {
      if (!toProto.has(value)) throw new UnknownVocabularyValueError(field, `must be one of ${listing}`);
      return value as V;
    },
  };
}

export const channels = vocabulary(ChannelEnum, 'CHANNEL_', 'lower');
export type Channel = (typeof channels.values)[number];
export const CHANNELS = channels.values;

export const severities = vocabulary(SeverityEnum, 'SEVERITY_', 'upper');
export type Severity = (typeof severities.values)[number];
export const SEVERITIES = severities.values;

export const slaTiers = vocabulary(SlaTierEnum, 'SLA_TIER_', 'lower');
export type SlaTier = (typeof slaTiers.values)[number];
export const SLA_TIERS = slaTiers.values;

export const issueTypes = vocabulary(IssueTypeEnum, 'ISSUE_TYPE_', 'lower');
export type IssueType = (typeof issueTypes.values)[number];
export const ISSUE_TYPES = issueTypes.values;

export const roles = vocabulary(RoleEnum, 'ROLE_', 'lower');
export type Role = (typeof roles.values)[number];
export const ROLES = roles.values;

export const leadStatuses = vocabulary(LeadStatusEnum, 'LEAD_STATUS_', 'lower');
export type LeadStatus = (typeof leadStatuses.values)[number];
export const LEAD_STATUSES = leadStatuses.values;

export const conversationStates = vocabulary(ConversationStateEnum, 'CONVERSATION_STATE_', 'lower');
export type ConversationState = (typeof conversationStates.values)[number];
export const CONVERSATION_STATES = conversationStates.values;

/** SQL `<column> in (...)` over a vocabulary's values (entity check constraints, so the database agrees). */
export function sqlIn(column: string, values: readonly string[]): string {
  return `${column} in (${values.map((v) => `'${v.replaceAll("'", "''")}'`).join(', ')})`;
}
