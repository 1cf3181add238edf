import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_ACCOUNT_ID, DEFAULT_API_KEY, DEFAULT_PARTNER_ID, DEFAULT_PROPERTY_ID, DEMO_AGENT_ID, DOMIQ_PROSPECT_SOURCE_ID,
  LOST_REASON_RENTED_ELSEWHERE_ID, startResmanSim,
} from '../src/index.ts';
import { echoedIds, getV2, guestCardXml, postLegacyJson } from './resman-client.helper.ts';

// A settable clock makes lastModified and the modifiedSince limits exact.
let clock = new Date('2026-03-01T12:00:00Z');
const sim = await startResmanSim({ now: () => clock });
afterAll(() => sim.close());
beforeEach(() => {
  sim.reset();
  clock = new Date('2026-03-01T12:00:00Z');
});

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

async function createLostJane(): Promise<{ prospectId: string; personIds: string[] }> {
  const created = echoedIds(await postLegacyJson(sim, 'MITS/PostLeadManagement4_0', {
    Xml: guestCardXml({
      customers: [{ firstName: 'Jane', lastName: 'Doe', email: 'jane@example.com', phone: '5125550100', phoneType: 'home' }, { firstName: 'Sam', lastName: 'Roe' }],
      events: [{ type: 'EmailFromProspect', date: '2026-02-27T09:00:00Z', agentId: DEMO_AGENT_ID, source: DOMIQ_PROSPECT_SOURCE_ID, firstContact: true, comments: 'Is 2B available?' }],
    }),
  }));
  clock = new Date('2026-03-01T12:05:00Z');
  await postLegacyJson(sim, 'MITS/PostLeadManagement4_0', {
    Xml: guestCardXml({
      customers: [{ prospectId: created.prospectId, personId: created.personIds[0] ?? '' }],
      events: [{ type: 'Cancel', date: '2026-03-01T12:05:00Z', agentId: DEMO_AGENT_ID, source: LOST_REASON_RENTED_ELSEWHERE_ID }],
    }),
  });
  return created;
}

describe('Partners API v2 GET /Prospects', () => {
  it('returns prospects modified since the given time with the v2 field names', async () => {
    const { prospectId, personIds } = await createLostJane();
    const res = await getV2(sim, { propertyId: DEFAULT_PROPERTY_ID, modifiedSince: '2026-03-01T00:00:00Z' });
    expect(res.status).toBe(200);
    expect(res.body.prospects).toEqual([{
      prospectId,
      propertyId: DEFAULT_PROPERTY_ID,
      mainPersonId: personIds[0],
      lastModified: '2026-03-01T12:05:00.000Z',
      prospectSourceId: DOMIQ_PROSPECT_SOURCE_ID,
      prospectSourceName: 'DomIQ',
      status: 'Lost',
      firstContactMethod: 'EmailFromProspect',
      firstContactDate: '2026-02-27T09:00:00.000Z',
      lostDate: '2026-03-01T12:05:00.000Z',
      lostReason: 'Rented Elsewhere',
      leasingAgent: { agentId: DEMO_AGENT_ID, firstName: 'Demo', lastName: 'Agent' },
      people: [
        { personId: personIds[0], firstName: 'Jane', middleName: null, lastName: 'Doe', email: 'jane@example.com', phone: '5125550100', phoneType: 'home', isMainContact: true },
        { personId: personIds[1], firstName: 'Sam', middleName: null, lastName: 'Roe', email: null, phone: null, phoneType: null, isMainContact: false },
      ],
    }]);
  });

  it('includes the communication log only when asked', async () => {
    await createLostJane();
    const res = await getV2(sim, { propertyId: DEFAULT_PROPERTY_ID, modifiedSince: '2026-03-01T00:00:00Z', includeCommunicationLog: 'true' });
    expect(res.body.prospects[0].communicationLog).toEqual([
      { communicationLogId: expect.any(String), date: '2026-02-27T09:00:00.000Z', interactionType: 'EmailFromProspect', contactType: 'Email', description: 'Is 2B available?', note: null, employee: 'Demo Agent' },
      { communicationLogId: expect.any(String), date: '2026-03-01T12:05:00.000Z', interactionType: 'Cancel', contactType: null, description: null, note: 'Prospect Lost: Rented Elsewhere', employee: 'Demo Agent' },
    ]);
  });

  it('filters by modifiedSince, prospectId and personId', async () => {
    const { prospectId, personIds } = await createLostJane();
    clock = new Date('2026-03-01T12:10:00Z');
    const other = sim.state.seed({ accountId: DEFAULT_ACCOUNT_ID, propertyId: DEFAULT_PROPERTY_ID, people: [{ firstName: 'Old' }], lastModified: new Date('2026-02-01T00:00:00Z') });
    const since = async (q: Record<string, string>) =>
      (await getV2(sim, { propertyId: DEFAULT_PROPERTY_ID, ...q })).body.prospects.map((p: any) => p.prospectId);
    expect(await since({ modifiedSince: '2026-03-01T12:05:00Z' })).toEqual([prospectId]);
    expect(await since({ modifiedSince: '2026-03-01T12:05:01Z' })).toEqual([]);
    expect(await since({ modifiedSince: '2026-01-01T00:00:00Z' })).toEqual([other.prospectId, prospectId]);
    expect(await since({ modifiedSince: '2026-01-01T00:00:00Z', prospectId: other.prospectId })).toEqual([other.prospectId]);
    expect(await since({ modifiedSince: '2026-01-01T00:00:00Z', personId: personIds[1] ?? '' })).toEqual([prospectId]);
  });

  it.each([
    ['no Authorization', { 'resman-account-id': '400' }],
    ['a wrong api key', { authorization: basic(DEFAULT_PARTNER_ID, 'nope'), 'resman-account-id': '400' }],
    ['no ResMan-Account-Id', { authorization: basic(DEFAULT_PARTNER_ID, DEFAULT_API_KEY) }],
    ['an unknown account', { authorization: basic(DEFAULT_PARTNER_ID, DEFAULT_API_KEY), 'resman-account-id': '999' }],
  ])('answers 401 with %s', async (_name, headers) => {
    const res = await getV2(sim, { propertyId: DEFAULT_PROPERTY_ID, modifiedSince: '2026-03-01T00:00:00Z' }, headers);
    expect(res.status).toBe(401);
  });

  it.each([
    ['in the future', '2026-03-01T12:00:01Z'],
    ['older than 364 days', '2025-03-01T11:59:59Z'],
    ['missing', ''],
    ['not a date', 'last-week'],
  ])('answers 400 when modifiedSince is %s', async (_name, modifiedSince) => {
    const res = await getV2(sim, { propertyId: DEFAULT_PROPERTY_ID, modifiedSince });
    expect(res.status).toBe(400);
  });

  it('accepts modifiedSince exactly 364 days old and answers 400 for an unknown propertyId', async () => {
    expect((await getV2(sim, { propertyId: DEFAULT_PROPERTY_ID, modifiedSince: '2025-03-02T12:00:00Z' })).status).toBe(200);
    expect((await getV2(sim, { propertyId: '00000000-0000-0000-0000-000000000000', modifiedSince: '2026-03-01T00:00:00Z' })).status).toBe(400);
  });
});
