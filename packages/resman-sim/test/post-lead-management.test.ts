import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_PROPERTY_ID, DEMO_AGENT_ID, DEMO_MANAGER_ID, DOMIQ_PROSPECT_SOURCE_ID, LOST_REASON_PRICE_TOO_HIGH_ID,
  startResmanSim,
} from '../src/index.ts';
import { echoedIds, guestCardXml, postLegacy, postLegacyJson } from './resman-client.helper.ts';

const POST = 'MITS/PostLeadManagement4_0';
const sim = await startResmanSim();
afterAll(() => sim.close());
beforeEach(() => sim.reset());

const contact = (overrides: Record<string, unknown> = {}) => ({
  type: 'Contact', agentId: DEMO_AGENT_ID, source: DOMIQ_PROSPECT_SOURCE_ID, firstContact: true, comments: 'Asked about 2BR', ...overrides,
});

async function createJane(): Promise<{ prospectId: string; personId: string }> {
  const res = await postLegacyJson(sim, POST, {
    Xml: guestCardXml({
      customers: [{ firstName: 'Jane', lastName: 'Doe', email: 'jane@example.com', phone: '(512) 555-0100' }],
      events: [contact()],
    }),
  });
  const ids = echoedIds(res);
  return { prospectId: ids.prospectId, personId: ids.personIds[0] ?? '' };
}

describe('MITS/PostLeadManagement4_0', () => {
  it('creates a prospect and person with GUID ids and echoes both Identifications', async () => {
    const res = await postLegacyJson(sim, POST, {
      Xml: guestCardXml({
        customers: [{ firstName: 'Jane', lastName: 'Doe', email: 'jane@example.com', phone: '512-555-0100' }],
        events: [contact()],
        preferences: { TargetMoveInDate: '2026-03-01', DesiredNumBedrooms: { '@_Exact': '2' } },
      }),
    });
    expect(res).toMatchObject({ MethodName: 'PostLeadManagement4_0', Status: 'Success', ErrorDescription: null, AccountID: 400, PropertyID: DEFAULT_PROPERTY_ID });
    const customer = res.Response.LeadManagement.Prospects.Prospect[0].Customers.Customer[0];
    expect(customer.Identification).toEqual([
      { IDType: 'ProspectID', IDValue: expect.stringMatching(/^[0-9a-f-]{36}$/), OrganizationName: 'ResMan' },
      { IDType: 'PersonID', IDValue: expect.stringMatching(/^[0-9a-f-]{36}$/), OrganizationName: 'ResMan' },
    ]);
    const [prospect] = sim.state.snapshot();
    expect(prospect).toMatchObject({
      prospectId: customer.Identification[0].IDValue,
      mainPersonId: customer.Identification[1].IDValue,
      status: 'Prospect',
      prospectSourceId: DOMIQ_PROSPECT_SOURCE_ID,
      prospectSourceName: 'DomIQ',
      firstContactMethod: 'Contact',
      firstContactDate: '2026-01-15T14:30:00.000Z',
      leasingAgentId: DEMO_AGENT_ID,
      preferences: { TargetMoveInDate: '2026-03-01', DesiredNumBedrooms: { '@_Exact': '2' } },
    });
    expect(prospect?.people[0]).toMatchObject({ firstName: 'Jane', lastName: 'Doe', email: 'jane@example.com', isMainContact: true });
    expect(prospect?.events).toEqual([expect.objectContaining({
      communicationLogId: expect.stringMatching(/^[0-9a-f-]{36}$/), date: '2026-01-15T14:30:00.000Z',
      interactionType: 'Contact', description: 'Asked about 2BR', employee: 'Demo Agent',
    })]);
  });

  it('updates the identified prospect and person instead of creating new ones', async () => {
    const { prospectId, personId } = await createJane();
    const res = await postLegacyJson(sim, POST, {
      Xml: guestCardXml({ customers: [{ prospectId, personId, firstName: 'Janet', email: 'janet@example.com' }] }),
    });
    expect(echoedIds(res)).toEqual({ prospectId, personIds: [personId] });
    expect(sim.state.size).toBe(1);
    const person = sim.state.get(prospectId)?.people[0];
    expect(person).toMatchObject({ personId, firstName: 'Janet', lastName: 'Doe', email: 'janet@example.com' });
    expect(person?.phones).toEqual([{ number: '(512) 555-0100', type: 'cell' }]);
  });

  it('adds a Customer without PersonID on a known prospect as a roommate', async () => {
    const { prospectId, personId } = await createJane();
    const res = await postLegacyJson(sim, POST, {
      Xml: guestCardXml({ customers: [{ prospectId, firstName: 'Sam', lastName: 'Roe', email: 'sam@example.com' }] }),
    });
    const echoed = echoedIds(res);
    expect(echoed.prospectId).toBe(prospectId);
    expect(echoed.personIds).toHaveLength(1);
    expect(echoed.personIds[0]).not.toBe(personId);
    const people = sim.state.get(prospectId)?.people ?? [];
    expect(people.map((p) => [p.firstName, p.isMainContact])).toEqual([['Jane', true], ['Sam', false]]);
    expect(sim.state.size).toBe(1);
  });

  it('appends events to the communication log and drives the lifecycle', async () => {
    const { prospectId, personId } = await createJane();
    const post = (events: object[]) => postLegacyJson(sim, POST, { Xml: guestCardXml({ customers: [{ prospectId, personId }], events: events as never }) });

    const cancel = await post([{ type: 'Cancel', agentId: DEMO_AGENT_ID, source: LOST_REASON_PRICE_TOO_HIGH_ID, date: '2026-02-01T10:00:00Z' }]);
    expect(cancel.Status).toBe('Success');
    expect(cancel.Response.LeadManagement.Prospects.Prospect[0].Customers.Customer[0].Type).toBe('lost');
    expect(sim.state.get(prospectId)).toMatchObject({ status: 'Lost', lostReason: 'Price Too High', lostDate: '2026-02-01T10:00:00.000Z' });
    expect(sim.state.get(prospectId)?.events.at(-1)).toMatchObject({ interactionType: 'Cancel', eventReasons: 'Prospect Lost: Price Too High' });

    await post([contact({ type: 'ReActivate', firstContact: false })]);
    expect(sim.state.get(prospectId)).toMatchObject({ status: 'Prospect', lostReason: null, lostDate: null });
    await post([contact({ type: 'Application', agentId: DEMO_MANAGER_ID })]);
    expect(sim.state.get(prospectId)?.status).toBe('Applicant');
    await post([contact({ type: 'LeaseSign' })]);
    expect(sim.state.get(prospectId)?.status).toBe('Resident');
    expect(sim.state.get(prospectId)?.events.map((e) => e.interactionType)).toEqual(['Contact', 'Cancel', 'ReActivate', 'Application', 'LeaseSign']);
    // First contact and source were set once, by the creating event.
    expect(sim.state.get(prospectId)).toMatchObject({ firstContactMethod: 'Contact', prospectSourceName: 'DomIQ' });
  });

  it.each([
    ['an unknown agent', { agentId: '00000000-0000-0000-0000-000000000000' }, 'Agent could not be found'],
    ['a missing agent', { agentId: undefined }, 'Agent could not be found'],
    ['an unknown transaction source', { source: '00000000-0000-0000-0000-000000000000' }, 'Transaction Source could not be found'],
    ['a lost reason used as a source', { source: LOST_REASON_PRICE_TOO_HIGH_ID }, 'Transaction Source could not be found'],
    ['a source used as a lost reason', { type: 'Cancel', source: DOMIQ_PROSPECT_SOURCE_ID }, 'Lost Prospect Reason could not be found'],
    ['an unknown event type', { type: 'Teleport' }, 'Event type "Teleport" is not valid'],
    ['a bad event date', { date: 'yesterday' }, 'EventDate "yesterday" is not valid'],
  ])('rejects %s and changes nothing', async (_name, overrides, message) => {
    const { prospectId, personId } = await createJane();
    const before = sim.state.snapshot();
    // A valid roommate and a valid event ride along: the whole document must be rejected.
    const res = await postLegacyJson(sim, POST, {
      Xml: guestCardXml({
        customers: [{ prospectId, personId, firstName: 'Changed' }, { firstName: 'Room', lastName: 'Mate' }],
        events: [contact({ type: 'Show' }), contact(overrides)],
      }),
    });
    expect(res).toMatchObject({ Status: 'Error', ErrorDescription: message });
    expect(res.Response).toBeUndefined();
    expect(sim.state.snapshot()).toEqual(before);
  });

  it('rejects a bad event on a new guest card without creating anything', async () => {
    const res = await postLegacyJson(sim, POST, {
      Xml: guestCardXml({ customers: [{ firstName: 'New', lastName: 'Lead' }], events: [contact({ source: 'nope' })] }),
    });
    expect(res).toMatchObject({ Status: 'Error', ErrorDescription: 'Transaction Source could not be found' });
    expect(sim.state.size).toBe(0);
  });

  it('answers "Prospect could not be found" for an unknown ProspectID', async () => {
    const res = await postLegacyJson(sim, POST, {
      Xml: guestCardXml({ customers: [{ prospectId: '11111111-2222-3333-4444-555555555555', firstName: 'X', lastName: 'Y' }] }),
    });
    expect(res).toMatchObject({ Status: 'Error', ErrorDescription: 'Prospect could not be found' });
    expect(sim.state.size).toBe(0);
  });

  it('does not find a prospect of another property', async () => {
    const other = await startResmanSim({ accounts: [{ accountId: 400, propertyIds: [DEFAULT_PROPERTY_ID, 'aaaaaaaa-0000-0000-0000-000000000001'] }] });
    try {
      const created = await postLegacy(other, POST, { Xml: guestCardXml({ customers: [{ firstName: 'A', lastName: 'B' }] }) });
      const { prospectId } = echoedIds(JSON.parse(created.body));
      const res = await postLegacy(other, POST, { Xml: guestCardXml({ customers: [{ prospectId, firstName: 'C' }] }) }, {
        credentials: { PropertyID: 'aaaaaaaa-0000-0000-0000-000000000001' },
      });
      expect(JSON.parse(res.body)).toMatchObject({ Status: 'Error', ErrorDescription: 'Prospect could not be found' });
    } finally {
      await other.close();
    }
  });

  it.each([
    ['missing', undefined, 'Xml is required'],
    ['unparseable', '<LeadManagement><Prospects>', 'Xml could not be parsed'],
    ['not a lead document', '<Foo/>', 'Xml is not a LeadManagement document'],
  ])('answers Status Error when Xml is %s', async (_name, xml, message) => {
    const res = await postLegacyJson(sim, POST, xml === undefined ? {} : { Xml: xml });
    expect(res.Status).toBe('Error');
    expect(res.ErrorDescription).toContain(message);
    expect(sim.state.size).toBe(0);
  });

  it('echoes every person for an events-only update and ignores non-ResMan identifications', async () => {
    const { prospectId, personId } = await createJane();
    const xml = `<LeadManagement><Prospects><Prospect><Customers><Customer Type="prospect">
      <Identification IDType="ProspectID" IDValue="${prospectId}" OrganizationName="ResMan"/>
      <Identification IDType="LeadID" IDValue="domiq-123" OrganizationName="DomIQ"/>
      </Customer></Customers><Events><Event EventType="Appointment" EventDate="2026-01-20T16:00:00.1234567">
      <Agent><AgentID IDValue="${DEMO_AGENT_ID}"/></Agent><FirstContact>False</FirstContact>
      <TransactionSource>${DOMIQ_PROSPECT_SOURCE_ID}</TransactionSource><Comments>Tour at 4pm</Comments></Event></Events>
      </Prospect></Prospects></LeadManagement>`;
    const res = await postLegacyJson(sim, POST, { Xml: xml });
    expect(echoedIds(res)).toEqual({ prospectId, personIds: [personId] });
    expect(sim.state.get(prospectId)?.events.at(-1)).toMatchObject({ interactionType: 'Appointment', date: '2026-01-20T16:00:00.123Z', description: 'Tour at 4pm' });
  });
});
