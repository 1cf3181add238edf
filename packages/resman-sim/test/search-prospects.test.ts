import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_ACCOUNT_ID, DEFAULT_PROPERTY_ID, DEMO_AGENT_ID, DOMIQ_PROSPECT_SOURCE_ID, startResmanSim } from '../src/index.ts';
import { echoedIds, guestCardXml, postLegacy, postLegacyJson } from './resman-client.helper.ts';

const SEARCH = 'MITS/SearchProspects';
const sim = await startResmanSim();
afterAll(() => sim.close());
beforeEach(() => sim.reset());

const scope = { accountId: DEFAULT_ACCOUNT_ID, propertyId: DEFAULT_PROPERTY_ID };
const prospectsOf = (res: any): any[] => res.Response.LeadManagement.Prospects.Prospect;

async function seedTwo(): Promise<{ janeId: string; bobId: string }> {
  const jane = await postLegacyJson(sim, 'MITS/PostLeadManagement4_0', {
    Xml: guestCardXml({
      customers: [{ firstName: 'Jane', lastName: 'Doe', email: 'Jane.Doe@Example.com', phone: '+1 (512) 555-0100' }],
      events: [{ type: 'Contact', agentId: DEMO_AGENT_ID, source: DOMIQ_PROSPECT_SOURCE_ID, firstContact: true, comments: 'hi' }],
    }),
  });
  const bob = await postLegacyJson(sim, 'MITS/PostLeadManagement4_0', {
    Xml: guestCardXml({ customers: [{ firstName: 'Bob', lastName: 'Roe', email: 'bob@example.com', phone: '512.555.0199' }] }),
  });
  return { janeId: echoedIds(jane).prospectId, bobId: echoedIds(bob).prospectId };
}

describe('MITS/SearchProspects', () => {
  it('finds by ProspectID and returns the MITS prospect shape', async () => {
    const { janeId } = await seedTwo();
    const res = await postLegacyJson(sim, SEARCH, { ProspectID: janeId });
    expect(res.Status).toBe('Success');
    const prospects = prospectsOf(res);
    expect(prospects).toHaveLength(1);
    const customer = prospects[0].Customers.Customer[0];
    expect(customer).toMatchObject({
      Type: 'prospect',
      Name: { FirstName: 'Jane', LastName: 'Doe' },
      Email: 'Jane.Doe@Example.com',
      Phone: [{ PhoneType: 'cell', PhoneNumber: '+1 (512) 555-0100' }],
    });
    expect(customer.Identification.map((i: any) => i.IDType)).toEqual(['ProspectID', 'PersonID']);
    expect(customer.Identification[0].IDValue).toBe(janeId);
    expect(prospects[0].Events.Event[0]).toMatchObject({
      EventType: 'Contact', EventDate: '2026-01-15T14:30:00.000Z', Agent: { AgentID: { IDValue: DEMO_AGENT_ID } },
      FirstContact: 'True', TransactionSource: DOMIQ_PROSPECT_SOURCE_ID, Comments: 'hi',
    });
  });

  it('finds by FirstName+LastName, case-insensitively', async () => {
    const { janeId } = await seedTwo();
    const res = await postLegacyJson(sim, SEARCH, { FirstName: 'jane', LastName: 'DOE' });
    expect(prospectsOf(res).map((p) => p.Customers.Customer[0].Identification[0].IDValue)).toEqual([janeId]);
  });

  it('finds by Email, case-insensitively', async () => {
    const { janeId } = await seedTwo();
    const res = await postLegacyJson(sim, SEARCH, { Email: 'jane.doe@example.com' });
    expect(prospectsOf(res).map((p) => p.Customers.Customer[0].Identification[0].IDValue)).toEqual([janeId]);
  });

  it('finds by Phone comparing digits only', async () => {
    const { janeId, bobId } = await seedTwo();
    const jane = await postLegacyJson(sim, SEARCH, { Phone: '5125550100' });
    expect(prospectsOf(jane).map((p) => p.Customers.Customer[0].Identification[0].IDValue)).toEqual([janeId]);
    const bob = await postLegacyJson(sim, SEARCH, { Phone: '(512) 555-0199' });
    expect(prospectsOf(bob).map((p) => p.Customers.Customer[0].Identification[0].IDValue)).toEqual([bobId]);
  });

  it('finds a person by the email and phone a later post gave them, and a roommate by theirs, and no longer by the old ones', async () => {
    const { janeId } = await seedTwo();
    const [jane] = prospectsOf(await postLegacyJson(sim, SEARCH, { ProspectID: janeId }));
    const personId = jane.Customers.Customer[0].Identification.find((i: any) => i.IDType === 'PersonID').IDValue;
    await postLegacyJson(sim, 'MITS/PostLeadManagement4_0', {
      Xml: guestCardXml({ customers: [{ prospectId: janeId, personId, email: 'jane@new.example', phone: '512-555-0177' }] }),
    });
    await postLegacyJson(sim, 'MITS/PostLeadManagement4_0', {
      Xml: guestCardXml({ customers: [{ prospectId: janeId, firstName: 'Sam', lastName: 'Doe', email: 'Sam@Example.com' }] }),
    });
    const ids = async (criteria: Record<string, string>) => prospectsOf(await postLegacyJson(sim, SEARCH, criteria)).map((p) => p.Customers.Customer[0].Identification[0].IDValue);
    expect(await ids({ Email: 'JANE@new.example' })).toEqual([janeId]);
    expect(await ids({ Phone: '(512) 555-0177' })).toEqual([janeId]);
    expect(await ids({ Email: 'sam@example.com' })).toEqual([janeId]);
    expect(await ids({ Email: 'jane.doe@example.com' })).toEqual([]);
    expect(await ids({ Phone: '5125550100' })).toEqual([]);
    // Email and phone together must both match the same prospect.
    expect(await ids({ Email: 'sam@example.com', Phone: '5125550199' })).toEqual([]);
  });

  it('returns an empty Prospect list when nothing matches', async () => {
    await seedTwo();
    const res = await postLegacyJson(sim, SEARCH, { Email: 'nobody@example.com' });
    expect(res.Status).toBe('Success');
    expect(prospectsOf(res)).toEqual([]);
  });

  it('finds by ModifiedStartDateTime+ModifiedEndDateTime, inclusive', async () => {
    const early = sim.state.seed({ ...scope, people: [{ firstName: 'Early' }], lastModified: new Date('2026-01-01T00:00:00Z') });
    const inside = sim.state.seed({ ...scope, people: [{ firstName: 'Inside' }], lastModified: new Date('2026-01-02T12:00:00Z') });
    const edge = sim.state.seed({ ...scope, people: [{ firstName: 'Edge' }], lastModified: new Date('2026-01-03T00:00:00Z') });
    sim.state.seed({ ...scope, people: [{ firstName: 'Late' }], lastModified: new Date('2026-01-04T00:00:00Z') });
    const res = await postLegacyJson(sim, SEARCH, { ModifiedStartDateTime: '2026-01-01T00:00:01', ModifiedEndDateTime: '2026-01-03T00:00:00' });
    const ids = prospectsOf(res).map((p) => p.Customers.Customer[0].Identification[0].IDValue);
    expect(ids).toEqual([inside.prospectId, edge.prospectId]);
    expect(ids).not.toContain(early.prospectId);
  });

  it('answers HTTP 502 "buffer overflow" when a window holds more than maxWindowResults', async () => {
    for (let i = 0; i < 501; i += 1) {
      sim.state.seed({ ...scope, people: [{ firstName: `P${i}` }], lastModified: new Date(Date.UTC(2026, 0, 1, 0, i)) });
    }
    const window = { ModifiedStartDateTime: '2026-01-01T00:00:00Z', ModifiedEndDateTime: '2026-01-02T00:00:00Z' };
    const wide = await postLegacy(sim, SEARCH, window);
    expect(wide.status).toBe(502);
    expect(wide.body).toBe('buffer overflow');
    // Halving the window, as callers do, gets under the limit.
    const half = await postLegacyJson(sim, SEARCH, { ModifiedStartDateTime: '2026-01-01T00:00:00Z', ModifiedEndDateTime: '2026-01-01T04:09:00Z' });
    expect(prospectsOf(half)).toHaveLength(250);
    // The limit is a setting.
    sim.settings.maxWindowResults = 1000;
    expect((await postLegacy(sim, SEARCH, window)).status).toBe(200);
  });

  it('answers Status Error without criteria and for a lone FirstName', async () => {
    expect(await postLegacyJson(sim, SEARCH, {})).toMatchObject({ Status: 'Error', ErrorDescription: 'At least one search criterion is required' });
    expect((await postLegacyJson(sim, SEARCH, { FirstName: 'Jane' })).Status).toBe('Error');
  });

  it('renders <ResMan>…<Response><LeadManagement><Prospects><Prospect> in XML', async () => {
    const { janeId } = await seedTwo();
    const res = await postLegacy(sim, SEARCH, { ProspectID: janeId }, { accept: 'application/xml' });
    expect(res.headers.get('content-type')).toMatch(/application\/xml/);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_' }).parse(res.body);
    expect(doc.ResMan.Status).toBe('Success');
    const prospect = doc.ResMan.Response.LeadManagement.Prospects.Prospect;
    expect(prospect.Customers.Customer.Identification[0]['@_IDValue']).toBe(janeId);
    expect(prospect.Customers.Customer.Name.FirstName).toBe('Jane');
  });
});
