import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { buildGuestCardXml, mitsDate, parsePostLeadResponse, parseSearchProspects, MitsResponseError } from '../src/resman/mits.ts';

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', parseTagValue: false, parseAttributeValue: false });
const event = {
  eventType: 'TextFromProspect', eventDate: new Date('2026-03-04T05:06:07.890Z'), agentId: 'agent-1', firstContact: true,
  transactionSource: 'source-1', comments: 'Hi <b>there</b> & "welcome" [domiq:m1]',
};

describe('MITS guest card builder', () => {
  it('builds a new prospect with name, email, cell phone and a first-contact event', () => {
    const xml = buildGuestCardXml({ customer: { firstName: 'Jane', lastName: 'Doe', email: 'jane@acme.test', phone: '+14155550100' }, events: [event] });
    expect(XMLValidator.validate(xml)).toBe(true);
    const doc = parser.parse(xml);
    const prospect = doc.LeadManagement.Prospects.Prospect;
    const customer = prospect.Customers.Customer;
    expect(customer['@_Type']).toBe('prospect');
    expect(customer.Identification).toBeUndefined();
    expect(customer.Name).toEqual({ FirstName: 'Jane', LastName: 'Doe' });
    expect(customer.Email).toBe('jane@acme.test');
    expect(customer.Phone).toEqual({ '@_PhoneType': 'cell', PhoneNumber: '4155550100' });
    const ev = prospect.Events.Event;
    expect(ev['@_EventType']).toBe('TextFromProspect');
    expect(ev['@_EventDate']).toBe('2026-03-04T05:06:07');
    expect(ev.Agent.AgentID['@_IDValue']).toBe('agent-1');
    expect(ev.FirstContact).toBe('True');
    expect(ev.TransactionSource).toBe('source-1');
  });

  it('escapes markup in values instead of splicing it into the document', () => {
    const xml = buildGuestCardXml({ customer: { firstName: 'A</FirstName><Evil/>', lastName: 'B & C' }, events: [event] });
    expect(xml).not.toContain('<Evil/>');
    expect(xml).toContain('A&lt;/FirstName&gt;&lt;Evil/&gt;');
    expect(XMLValidator.validate(xml)).toBe(true);
    const prospect = parser.parse(xml).LeadManagement.Prospects.Prospect;
    expect(prospect.Customers.Customer.Name).toEqual({ FirstName: 'A</FirstName><Evil/>', LastName: 'B & C' });
    expect(prospect.Events.Event.Comments).toBe(event.comments);
  });

  it('identifies the prospect and person when updating, and sends only the event', () => {
    const xml = buildGuestCardXml({ customer: { prospectId: 'P-1', personId: 'R-1' }, events: [{ ...event, firstContact: false }] });
    const customer = parser.parse(xml).LeadManagement.Prospects.Prospect.Customers.Customer;
    expect(customer.Identification).toEqual([
      { '@_IDType': 'ProspectID', '@_IDValue': 'P-1', '@_OrganizationName': 'ResMan' },
      { '@_IDType': 'PersonID', '@_IDValue': 'R-1', '@_OrganizationName': 'ResMan' },
    ]);
    expect(customer.Name).toBeUndefined();
    expect(customer.Email).toBeUndefined();
    expect(customer.Phone).toBeUndefined();
  });

  it.each([
    ['none@none.com', '0000000000'],
    ['noemail@gmail.com', '+1 000-000-0000'],
    ['nobody@', '1111111111'],
  ])('never pushes placeholder contacts (%s, %s)', (email, phone) => {
    const xml = buildGuestCardXml({ customer: { firstName: 'Jane', email, phone }, events: [event] });
    const customer = parser.parse(xml).LeadManagement.Prospects.Prospect.Customers.Customer;
    expect(customer.Email).toBeUndefined();
    expect(customer.Phone).toBeUndefined();
    expect(xml).not.toContain(email);
  });

  it('formats MITS dates as zone-less UTC seconds', () => {
    expect(mitsDate(new Date('2026-12-31T23:59:59.999Z'))).toBe('2026-12-31T23:59:59');
  });
});

describe('MITS answers', () => {
  // The simulator's documented JSON shape (resman-sim.server.ts): attributes as plain keys, repeatables as arrays.
  const postAnswer = {
    MethodName: 'PostLeadManagement4_0', Status: 'Success', ErrorDescription: null, AccountID: 400, PropertyID: 'x',
    Response: { LeadManagement: { Prospects: { Prospect: [{ Customers: { Customer: [{ Type: 'prospect', Identification: [
      { IDType: 'ProspectID', IDValue: 'prospect-1', OrganizationName: 'ResMan' },
      { IDType: 'PersonID', IDValue: 'person-1', OrganizationName: 'ResMan' },
    ] }] } }] } } },
  };

  it('reads ProspectID and PersonID from PostLeadManagement4_0', () => {
    expect(parsePostLeadResponse(postAnswer)).toEqual({ prospectId: 'prospect-1', personId: 'person-1' });
  });

  it('accepts single elements rendered as objects and ignores other organisations\u2019 ids', () => {
    const single = { Response: { LeadManagement: { Prospects: { Prospect: { Customers: { Customer: { Identification: [
      { IDType: 'ProspectID', IDValue: 'ours', OrganizationName: 'DomIQ' },
      { IDType: 'ProspectID', IDValue: 'prospect-2', OrganizationName: 'ResMan' },
      { IDType: 'PersonID', IDValue: 'person-2' },
    ] } } } } } } };
    expect(parsePostLeadResponse(single)).toEqual({ prospectId: 'prospect-2', personId: 'person-2' });
  });

  it('rejects an answer without the ids', () => {
    expect(() => parsePostLeadResponse({ Status: 'Success', Response: { LeadManagement: { Prospects: { Prospect: [] } } } })).toThrow(MitsResponseError);
  });

  it('reads prospects, people and events from SearchProspects', () => {
    const answer = { Response: { LeadManagement: { Prospects: { Prospect: [{
      Customers: { Customer: [{ Type: 'applicant', Identification: [
        { IDType: 'ProspectID', IDValue: 'p-9', OrganizationName: 'ResMan' }, { IDType: 'PersonID', IDValue: 'r-9', OrganizationName: 'ResMan' },
      ], Name: { FirstName: 'Jo', LastName: 'Ng' }, Email: 'jo@x.test', Phone: [{ PhoneType: 'cell', PhoneNumber: '5125550100' }] }] },
      Events: { Event: [{ EventType: 'TextFromProspect', EventDate: '2026-01-01T00:00:00.000Z', Comments: 'hello [domiq:m-1]' }] },
    }] } } } };
    expect(parseSearchProspects(answer)).toEqual([{
      prospectId: 'p-9',
      people: [{ personId: 'r-9', customerType: 'applicant', firstName: 'Jo', lastName: 'Ng', email: 'jo@x.test', phones: ['5125550100'] }],
      events: [{ eventType: 'TextFromProspect', eventDate: '2026-01-01T00:00:00.000Z', comments: 'hello [domiq:m-1]' }],
    }]);
    expect(parseSearchProspects({ Response: { LeadManagement: { Prospects: { Prospect: [] } } } })).toEqual([]);
  });
});
