import { describe, expect, it } from 'vitest';
import { CONSENT_SOURCES, consentChanges, consentSourceFromProto, consentSourceToProto, consentStatusFromProto, consentStatusToProto } from '../src/domain/consent.ts';

describe('consent vocabulary', () => {
  it('converts every stored source and status to its proto value and back', () => {
    for (const s of CONSENT_SOURCES) expect(consentSourceFromProto(consentSourceToProto(s))).toBe(s);
    expect(consentStatusFromProto(consentStatusToProto('opted_out'))).toBe('opted_out');
    expect(consentStatusToProto(null)).toBe('CONSENT_STATUS_UNSPECIFIED');
    expect(consentStatusFromProto('CONSENT_STATUS_UNSPECIFIED')).toBeUndefined();
    expect(consentSourceFromProto('CONSENT_SOURCE_UNSPECIFIED')).toBeUndefined();
  });

  it('treats the same status from the same source as a retry, anything else as a change', () => {
    expect(consentChanges(null, { status: 'opted_in', source: 'web_form' })).toBe(true);
    expect(consentChanges({ status: 'opted_in', source: 'web_form' }, { status: 'opted_in', source: 'web_form' })).toBe(false);
    expect(consentChanges({ status: 'opted_in', source: 'web_form' }, { status: 'opted_in', source: 'agent' })).toBe(true);
    expect(consentChanges({ status: 'opted_in', source: 'web_form' }, { status: 'opted_out', source: 'web_form' })).toBe(true);
  });
});
