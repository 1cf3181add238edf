import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  ChannelEnum, CHANNELS, channels, CONVERSATION_STATES, ISSUE_TYPES, LEAD_STATUSES, ROLES, severities, SEVERITIES, SLA_TIERS, sqlIn,
  UnknownVocabularyValueError, type Channel, type Severity,
} from '../src/vocabulary.ts';

describe('shared vocabularies', () => {
  it('derive the stored values from the proto enums, in order, without UNSPECIFIED or UNRECOGNIZED', () => {
    expect(CHANNELS).toEqual(['web_chat', 'email', 'sms', 'whatsapp', 'facebook', 'instagram', 'twitter', 'voice', 'api']);
    expect(SEVERITIES).toEqual(['P0', 'P1', 'P2', 'P3']);
    expect(SLA_TIERS).toEqual(['free', 'standard', 'premium', 'enterprise']);
    expect(ISSUE_TYPES).toEqual(['technical', 'billing', 'ops', 'compliance', 'security', 'other']);
    expect(ROLES).toEqual(['admin', 'supervisor', 'agent', 'engineer', 'property_manager']);
    expect(LEAD_STATUSES).toEqual(['new', 'contacted', 'qualified', 'tour_scheduled', 'toured', 'application', 'leased', 'lost']);
    expect(CONVERSATION_STATES).toEqual(['open', 'awaiting_customer', 'awaiting_agent', 'escalated', 'resolved', 'reopened']);
    expectTypeOf<Channel>().toEqualTypeOf<'web_chat' | 'email' | 'sms' | 'whatsapp' | 'facebook' | 'instagram' | 'twitter' | 'voice' | 'api'>();
    expectTypeOf<Severity>().toEqualTypeOf<'P0' | 'P1' | 'P2' | 'P3'>();
  });

  it('convert both ways at the contract edge', () => {
    for (const c of CHANNELS) expect(channels.fromProto(channels.toProto(c), 'channel')).toBe(c);
    expect(channels.toProto('web_chat')).toBe(ChannelEnum.CHANNEL_WEB_CHAT);
    expect(severities.fromProto('SEVERITY_P1', 'severity')).toBe('P1');
    expect(severities.fromProtoOr('SEVERITY_UNSPECIFIED', 'severity', 'P2')).toBe('P2');
  });

  it('refuse UNSPECIFIED, UNRECOGNIZED and unknown stored values, naming the field', () => {
    expect(() => channels.fromProto('CHANNEL_UNSPECIFIED', 'channel_type')).toThrow(new UnknownVocabularyValueError('channel_type', 'is required'));
    expect(() => channels.fromProto('UNRECOGNIZED', 'channel_type')).toThrow(/^channel_type: must be one of web_chat, email/);
    expect(() => severities.fromProtoOr('UNRECOGNIZED', 'severity', 'P2')).toThrow(/severity: must be one of P0/);
    expect(() => channels.parse('telegram', 'type')).toThrow(/type: must be one of/);
    expect(channels.is('sms')).toBe(true);
    expect(channels.is('internal')).toBe(false);
  });

  it('give exhaustive maps their keys (a missing channel would not compile)', () => {
    const replyLimit: Record<Channel, number> = { web_chat: 4096, email: 100_000, sms: 1600, whatsapp: 4096, facebook: 2000, instagram: 1000, twitter: 10_000, voice: 0, api: 100_000 };
    expect(Object.keys(replyLimit).sort()).toEqual([...CHANNELS].sort());
  });

  it('render SQL check lists', () => {
    expect(sqlIn('tier', SLA_TIERS)).toBe(`tier in ('free', 'standard', 'premium', 'enterprise')`);
  });
});
