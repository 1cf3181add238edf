import { ConsentSource as ConsentSourceEnum, ConsentStatus as ConsentStatusEnum } from '@domiq/proto/identity/events';

export const CONSENT_STATUSES = ['opted_in', 'opted_out'] as const;
export type ConsentStatus = (typeof CONSENT_STATUSES)[number];

export const CONSENT_SOURCES = ['sms_stop_keyword', 'sms_start_keyword', 'email_unsubscribe', 'web_form', 'agent', 'import', 'merge', 'unmerge'] as const;
export type ConsentSource = (typeof CONSENT_SOURCES)[number];

/** Sources identity records itself; a caller cannot claim them. */
export const OWN_CONSENT_SOURCES: readonly ConsentSource[] = ['merge', 'unmerge'];

const STATUS_TO_PROTO: Record<ConsentStatus, ConsentStatusEnum> = {
  opted_in: 'CONSENT_STATUS_OPTED_IN',
  opted_out: 'CONSENT_STATUS_OPTED_OUT',
};

const SOURCE_TO_PROTO: Record<ConsentSource, ConsentSourceEnum> = {
  sms_stop_keyword: 'CONSENT_SOURCE_SMS_STOP_KEYWORD',
  sms_start_keyword: 'CONSENT_SOURCE_SMS_START_KEYWORD',
  email_unsubscribe: 'CONSENT_SOURCE_EMAIL_UNSUBSCRIBE',
  web_form: 'CONSENT_SOURCE_WEB_FORM',
  agent: 'CONSENT_SOURCE_AGENT',
  import: 'CONSENT_SOURCE_IMPORT',
  merge: 'CONSENT_SOURCE_MERGE',
  unmerge: 'CONSENT_SOURCE_UNMERGE',
};

const invert = <K extends string, V extends string>(m: Record<K, V>): Map<string, K> => new Map(Object.entries(m).map(([k, v]) => [v as string, k as K]));
const STATUS_FROM_PROTO = invert(STATUS_TO_PROTO);
const SOURCE_FROM_PROTO = invert(SOURCE_TO_PROTO);

/** null: no consent on record (CONSENT_STATUS_UNSPECIFIED on the wire). */
export function consentStatusToProto(status: ConsentStatus | null): ConsentStatusEnum {
  return status ? STATUS_TO_PROTO[status] : 'CONSENT_STATUS_UNSPECIFIED';
}

export function consentSourceToProto(source: ConsentSource): ConsentSourceEnum {
  return SOURCE_TO_PROTO[source];
}

/** The stored status of a proto value, or undefined for UNSPECIFIED and unknown values. */
export function consentStatusFromProto(value: string): ConsentStatus | undefined {
  return STATUS_FROM_PROTO.get(value);
}

export function consentSourceFromProto(value: string): ConsentSource | undefined {
  return SOURCE_FROM_PROTO.get(value);
}

/** One channel's consent as recorded. */
export interface ConsentRecord {
  status: ConsentStatus;
  source: ConsentSource;
}

/** Whether recording `next` changes anything: the same status from the same source again is a retry. */
export function consentChanges(current: ConsentRecord | null, next: ConsentRecord): boolean {
  return !current || current.status !== next.status || current.source !== next.source;
}
