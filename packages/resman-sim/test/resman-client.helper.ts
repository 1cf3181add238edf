// Test helpers: a tiny ResMan legacy/v2 client and a MITS guest-card builder, as a partner would write them.
import { XMLBuilder } from 'fast-xml-parser';
import type { ResmanSim } from '../src/index.ts';
import { DEFAULT_ACCOUNT_ID, DEFAULT_API_KEY, DEFAULT_PARTNER_ID, DEFAULT_PROPERTY_ID } from '../src/index.ts';

export interface LegacyOptions {
  accept?: string;
  credentials?: Partial<Record<'IntegrationPartnerID' | 'ApiKey' | 'AccountID' | 'PropertyID', string>>;
  signal?: AbortSignal;
}

export interface LegacyResponse {
  status: number;
  headers: Headers;
  body: string;
}

export async function postLegacy(
  sim: ResmanSim,
  method: string,
  fields: Record<string, string> = {},
  options: LegacyOptions = {},
): Promise<LegacyResponse> {
  const form = new URLSearchParams({
    IntegrationPartnerID: DEFAULT_PARTNER_ID,
    ApiKey: DEFAULT_API_KEY,
    AccountID: String(DEFAULT_ACCOUNT_ID),
    PropertyID: DEFAULT_PROPERTY_ID,
    ...options.credentials,
    ...fields,
  });
  const init: RequestInit = {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: options.accept ?? 'application/json' },
    body: form.toString(),
  };
  if (options.signal !== undefined) init.signal = options.signal;
  const res = await fetch(`${sim.url}/${method}`, init);
  return { status: res.status, headers: res.headers, body: await res.text() };
}

export async function postLegacyJson(sim: ResmanSim, method: string, fields: Record<string, string> = {}): Promise<any> {
  const res = await postLegacy(sim, method, fields);
  if (res.status !== 200) throw new Error(`${method} answered HTTP ${res.status}: ${res.body}`);
  return JSON.parse(res.body);
}

export interface CustomerSpec {
  type?: string;
  prospectId?: string;
  personId?: string;
  firstName?: string;
  lastName?: string;
  email?: string;
  phone?: string;
  phoneType?: string;
}

export interface EventSpec {
  type: string;
  date?: string;
  agentId?: string;
  firstContact?: boolean;
  source?: string;
  comments?: string;
  unitId?: string;
}

export interface GuestCardSpec {
  customers: CustomerSpec[];
  events?: EventSpec[];
  preferences?: Record<string, unknown>;
}

const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', suppressEmptyNode: true });

function customerNode(c: CustomerSpec): Record<string, unknown> {
  const ids = [
    ...(c.prospectId ? [{ '@_IDType': 'ProspectID', '@_IDValue': c.prospectId, '@_OrganizationName': 'ResMan' }] : []),
    ...(c.personId ? [{ '@_IDType': 'PersonID', '@_IDValue': c.personId, '@_OrganizationName': 'ResMan' }] : []),
  ];
  return {
    '@_Type': c.type ?? 'prospect',
    ...(ids.length ? { Identification: ids } : {}),
    ...(c.firstName || c.lastName ? { Name: { FirstName: c.firstName, LastName: c.lastName } } : {}),
    ...(c.email ? { Email: c.email } : {}),
    ...(c.phone ? { Phone: { '@_PhoneType': c.phoneType ?? 'cell', PhoneNumber: c.phone } } : {}),
  };
}

function eventNode(e: EventSpec): Record<string, unknown> {
  return {
    '@_EventType': e.type,
    '@_EventDate': e.date ?? '2026-01-15T14:30:00',
    ...(e.agentId ? { Agent: { AgentID: { '@_IDValue': e.agentId } } } : {}),
    FirstContact: e.firstContact ? 'True' : 'False',
    ...(e.source ? { TransactionSource: e.source } : {}),
    ...(e.comments ? { Comments: e.comments } : {}),
    ...(e.unitId ? { UnitID: e.unitId } : {}),
  };
}

export function guestCardXml(...prospects: GuestCardSpec[]): string {
  return builder.build({
    LeadManagement: {
      Prospects: {
        Prospect: prospects.map((p) => ({
          Customers: { Customer: p.customers.map(customerNode) },
          ...(p.preferences ? { CustomerPreferences: p.preferences } : {}),
          ...(p.events?.length ? { Events: { Event: p.events.map(eventNode) } } : {}),
        })),
      },
    },
  }) as string;
}

export interface EchoedIds { prospectId: string; personIds: string[] }

// Reads the JSON echo of PostLeadManagement4_0: Response.LeadManagement.Prospects.Prospect[].Customers.Customer[].Identification[].
export function echoedIds(response: any, prospectIndex = 0): EchoedIds {
  const prospect = response.Response.LeadManagement.Prospects.Prospect[prospectIndex];
  const customers: any[] = prospect.Customers.Customer;
  const idOf = (c: any, type: string): string => c.Identification.find((i: any) => i.IDType === type).IDValue;
  return { prospectId: idOf(customers[0], 'ProspectID'), personIds: customers.map((c) => idOf(c, 'PersonID')) };
}

export async function getV2(sim: ResmanSim, query: Record<string, string>, headers: Record<string, string> | null = null): Promise<{ status: number; body: any }> {
  const auth = Buffer.from(`${DEFAULT_PARTNER_ID}:${DEFAULT_API_KEY}`).toString('base64');
  const res = await fetch(`${sim.url}/Prospects?${new URLSearchParams(query)}`, {
    headers: headers ?? { authorization: `Basic ${auth}`, 'resman-account-id': String(DEFAULT_ACCOUNT_ID) },
  });
  const text = await res.text();
  const isJson = res.headers.get('content-type')?.includes('application/json') ?? false;
  return { status: res.status, body: isJson ? JSON.parse(text) : text };
}
