import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_EMPLOYEES, DEFAULT_LOST_PROSPECT_REASONS, DEFAULT_PROPERTY_ID, DEFAULT_PROSPECT_SOURCES, DEMO_AGENT_ID,
  DOMIQ_PROSPECT_SOURCE_ID, startResmanSim,
} from '../src/index.ts';
import { guestCardXml, postLegacy, postLegacyJson } from './resman-client.helper.ts';

const sim = await startResmanSim();
afterAll(() => sim.close());
beforeEach(() => sim.reset());

const xmlParser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', parseTagValue: false });
const card = () => guestCardXml({
  customers: [{ firstName: 'Jane', lastName: 'Doe' }],
  events: [{ type: 'Contact', agentId: DEMO_AGENT_ID, source: DOMIQ_PROSPECT_SOURCE_ID, firstContact: true }],
});

describe('legacy partner API envelope', () => {
  it('answers JSON unless Accept asks for XML', async () => {
    const res = await postLegacy(sim, 'MITS/PostLeadManagement4_0', { Xml: card() }, { accept: '*/*' });
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(Object.keys(JSON.parse(res.body))).toEqual(['MethodName', 'Status', 'ErrorDescription', 'AccountID', 'PropertyID', 'Response']);
  });

  it('answers a <ResMan> document with the same children for Accept: application/xml', async () => {
    const res = await postLegacy(sim, 'MITS/PostLeadManagement4_0', { Xml: card() }, { accept: 'application/xml' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/xml/);
    const root = xmlParser.parse(res.body).ResMan;
    expect(Object.keys(root)).toEqual(['MethodName', 'Status', 'ErrorDescription', 'AccountID', 'PropertyID', 'Response']);
    expect(root).toMatchObject({ MethodName: 'PostLeadManagement4_0', Status: 'Success', ErrorDescription: '', AccountID: '400', PropertyID: DEFAULT_PROPERTY_ID });
    const ids = root.Response.LeadManagement.Prospects.Prospect.Customers.Customer.Identification;
    expect(ids.map((i: any) => i['@_IDType'])).toEqual(['ProspectID', 'PersonID']);
    expect(ids[0]['@_IDValue']).toBe(sim.state.list()[0]?.prospectId);
  });

  it('answers errors in XML too', async () => {
    const res = await postLegacy(sim, 'MITS/PostLeadManagement4_0', { Xml: '<bad' }, { accept: 'application/xml' });
    const root = xmlParser.parse(res.body).ResMan;
    expect(res.status).toBe(200);
    expect(root.Status).toBe('Error');
    expect(root.ErrorDescription).toMatch(/Xml could not be parsed/);
  });

  it.each([
    ['IntegrationPartnerID', { IntegrationPartnerID: 'someone-else' }],
    ['ApiKey', { ApiKey: 'wrong-key' }],
  ])('answers HTTP 401 for a bad %s', async (_name, credentials) => {
    const res = await postLegacy(sim, 'MITS/PostLeadManagement4_0', { Xml: card() }, { credentials });
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body).Status).toBe('Error');
    expect(sim.state.size).toBe(0);
  });

  it('answers Status Error (HTTP 200) for an unknown AccountID or PropertyID', async () => {
    const account = await postLegacy(sim, 'MITS/PostLeadManagement4_0', { Xml: card() }, { credentials: { AccountID: '999' } });
    expect(account.status).toBe(200);
    expect(JSON.parse(account.body)).toMatchObject({ Status: 'Error', ErrorDescription: 'Account could not be found', AccountID: 999 });
    const property = await postLegacy(sim, 'MITS/SearchProspects', { Email: 'x@y.z' }, { credentials: { PropertyID: '00000000-0000-0000-0000-000000000000' } });
    expect(property.status).toBe(200);
    expect(JSON.parse(property.body)).toMatchObject({ Status: 'Error', ErrorDescription: 'Property could not be found' });
    expect(sim.state.size).toBe(0);
  });

  it('answers 404 for an unknown method and 405 for GET on a method', async () => {
    expect((await postLegacy(sim, 'MITS/NoSuchMethod')).status).toBe(404);
    expect((await fetch(`${sim.url}/MITS/SearchProspects`)).status).toBe(405);
  });

  it('binds method paths and form fields case-insensitively, as ASP.NET does', async () => {
    const res = await postLegacy(sim, 'mits/searchprospects', { email: 'nobody@example.com' });
    expect(JSON.parse(res.body)).toMatchObject({ MethodName: 'SearchProspects', Status: 'Success' });
  });
});

describe('Leasing lookups', () => {
  it('GetProspectSources answers {"ProspectSources":[{ID,Name}]}', async () => {
    const res = await postLegacyJson(sim, 'Leasing/GetProspectSources');
    expect(res).toMatchObject({ Status: 'Success', ProspectSources: DEFAULT_PROSPECT_SOURCES });
  });

  it('GetLostProspectReasons answers {"LostProspectReasons":[{ID,Name}]}, PropertyID optional', async () => {
    const res = await postLegacy(sim, 'Leasing/GetLostProspectReasons', {}, { credentials: { PropertyID: '' } });
    expect(JSON.parse(res.body)).toMatchObject({ Status: 'Success', LostProspectReasons: DEFAULT_LOST_PROSPECT_REASONS });
  });

  it('GetEmployees answers {"Employees":[{Name,ID,Email,SecurityGroup}]}', async () => {
    const res = await postLegacyJson(sim, 'Leasing/GetEmployees');
    expect(res.Employees).toEqual(DEFAULT_EMPLOYEES.map((e) => ({ Name: e.Name, ID: e.ID, Email: e.Email, SecurityGroup: e.SecurityGroup })));
    expect(Object.keys(res.Employees[0])).toEqual(['Name', 'ID', 'Email', 'SecurityGroup']);
  });

  it('GetEmployees in XML nests <Employees><Employee>', async () => {
    const res = await postLegacy(sim, 'Leasing/GetEmployees', {}, { accept: 'application/xml' });
    const employees = xmlParser.parse(res.body).ResMan.Employees.Employee;
    expect(employees.map((e: any) => e.ID)).toEqual(DEFAULT_EMPLOYEES.map((e) => e.ID));
  });
});

describe('/_sim control endpoints', () => {
  it('GET /_sim/prospects lists every prospect with its people and events, POST /_sim/reset empties it', async () => {
    await postLegacyJson(sim, 'MITS/PostLeadManagement4_0', { Xml: card() });
    const listed = await (await fetch(`${sim.url}/_sim/prospects`)).json() as any[];
    expect(listed).toHaveLength(1);
    expect(listed[0].people[0]).toMatchObject({ firstName: 'Jane', lastName: 'Doe' });
    expect(listed[0].events[0]).toMatchObject({ interactionType: 'Contact', employee: 'Demo Agent' });
    expect((await fetch(`${sim.url}/_sim/reset`, { method: 'POST' })).status).toBe(200);
    expect(await (await fetch(`${sim.url}/_sim/prospects`)).json()).toEqual([]);
    expect(sim.requests.count()).toBe(0);
  });

  it('POST /_sim/settings changes maxWindowResults', async () => {
    const res = await fetch(`${sim.url}/_sim/settings`, { method: 'POST', body: JSON.stringify({ maxWindowResults: 3 }) });
    expect(await res.json()).toEqual({ maxWindowResults: 3 });
    expect(sim.settings.maxWindowResults).toBe(3);
    sim.settings.maxWindowResults = 500;
  });
});
