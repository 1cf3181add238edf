// MITS Lead Management 4.0: reading the guest cards partners post, and writing prospects back out.
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { SimEvent, SimPerson, SimPhone, SimProspect, ProspectStatus } from './sim-types.ts';

export type XmlNode = Record<string, unknown>;

export interface LeadCustomerInput {
  type: string | null;
  prospectId: string | null;
  personId: string | null;
  // undefined = element absent, so the stored value is left alone.
  firstName: string | undefined;
  middleName: string | undefined;
  lastName: string | undefined;
  email: string | undefined;
  phones: SimPhone[] | undefined;
}

export interface LeadEventInput {
  eventType: string;
  eventDate: string | undefined;
  agentId: string | undefined;
  firstContact: boolean;
  transactionSource: string | undefined;
  comments: string | undefined;
  eventReasons: string | undefined;
  unitId: string | undefined;
}

export interface LeadProspectInput {
  customers: LeadCustomerInput[];
  preferences: XmlNode | undefined;
  events: LeadEventInput[];
}

export type LeadDocumentParse = { ok: true; prospects: LeadProspectInput[] } | { ok: false; error: string };

// Elements that may repeat are always arrays, so one and many read the same way.
const REPEATABLE = new Set(['Prospect', 'Customer', 'Identification', 'Event', 'Phone']);

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  // Keep phone numbers, ids and zip codes as written.
  parseTagValue: false,
  parseAttributeValue: false,
  removeNSPrefix: true,
  isArray: (tagName) => REPEATABLE.has(tagName),
});

export function asNode(value: unknown): XmlNode | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as XmlNode) : undefined;
}

function asArray(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

function textOf(value: unknown): string | undefined {
  const raw = typeof value === 'string' ? value : asNode(value)?.['#text'];
  if (typeof raw !== 'string') return undefined;
  const trimmed = raw.trim();
  return trimmed === '' ? undefined : trimmed;
}

function attrOf(node: XmlNode | undefined, name: string): string | undefined {
  const value = node?.[`@_${name}`];
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

function readCustomer(node: XmlNode): LeadCustomerInput {
  let prospectId: string | null = null;
  let personId: string | null = null;
  for (const idNode of asArray(node['Identification'])) {
    const id = asNode(idNode);
    const org = attrOf(id, 'OrganizationName');
    // Partners may carry their own ids alongside; only ResMan's identify a record here.
    if (org !== undefined && org.toLowerCase() !== 'resman') continue;
    const type = attrOf(id, 'IDType')?.toLowerCase();
    const value = attrOf(id, 'IDValue');
    if (value === undefined) continue;
    if (type === 'prospectid') prospectId = value;
    if (type === 'personid') personId = value;
  }
  const name = asNode(node['Name']);
  const phoneNodes = asArray(node['Phone']);
  const phones = phoneNodes.flatMap((p) => {
    const phone = asNode(p);
    const number = textOf(phone?.['PhoneNumber']) ?? textOf(p);
    return number === undefined ? [] : [{ number, type: attrOf(phone, 'PhoneType') ?? null }];
  });
  return {
    type: attrOf(node, 'Type') ?? null,
    prospectId,
    personId,
    firstName: textOf(name?.['FirstName']),
    middleName: textOf(name?.['MiddleName']),
    lastName: textOf(name?.['LastName']),
    email: textOf(node['Email']),
    phones: phones.length === 0 ? undefined : phones,
  };
}

function readEvent(node: XmlNode): LeadEventInput {
  const agent = asNode(node['Agent']);
  return {
    eventType: attrOf(node, 'EventType') ?? '',
    eventDate: attrOf(node, 'EventDate'),
    agentId: attrOf(asNode(agent?.['AgentID']), 'IDValue') ?? textOf(agent?.['AgentID']),
    firstContact: textOf(node['FirstContact'])?.toLowerCase() === 'true',
    transactionSource: textOf(node['TransactionSource']),
    comments: textOf(node['Comments']),
    eventReasons: textOf(node['EventReasons']),
    unitId: textOf(node['UnitID']),
  };
}

export function parseLeadManagementXml(xml: string | undefined): LeadDocumentParse {
  if (xml === undefined || xml.trim() === '') return { ok: false, error: 'Xml is required' };
  const valid = XMLValidator.validate(xml);
  if (valid !== true) return { ok: false, error: `Xml could not be parsed: ${valid.err.msg}` };
  let doc: unknown;
  try {
    doc = parser.parse(xml);
  } catch (err) {
    return { ok: false, error: `Xml could not be parsed: ${(err as Error).message}` };
  }
  const root = asNode(asNode(doc)?.['LeadManagement']);
  if (root === undefined) return { ok: false, error: 'Xml is not a LeadManagement document' };
  const prospectNodes = asArray(asNode(root['Prospects'])?.['Prospect']).map(asNode).filter((n) => n !== undefined);
  if (prospectNodes.length === 0) return { ok: false, error: 'Xml contains no Prospect' };
  const prospects = prospectNodes.map((p) => ({
    customers: asArray(asNode(p['Customers'])?.['Customer']).map(asNode).filter((n) => n !== undefined).map(readCustomer),
    preferences: asNode(p['CustomerPreferences']),
    events: asArray(asNode(p['Events'])?.['Event']).map(asNode).filter((n) => n !== undefined).map(readEvent),
  }));
  return { ok: true, prospects };
}

// --- writing: trees in fast-xml-parser form ("@_" attributes), turned into JSON by legacy-envelope.ts.

const CUSTOMER_TYPE: Record<ProspectStatus, string> = {
  Prospect: 'prospect',
  Lost: 'lost',
  Applicant: 'applicant',
  Resident: 'current_resident',
};

export function customerTypeOf(status: ProspectStatus): string {
  return CUSTOMER_TYPE[status];
}

// Drops null/undefined members so neither XML nor JSON shows empty placeholders.
function compact(node: Record<string, unknown>): XmlNode {
  return Object.fromEntries(Object.entries(node).filter(([, v]) => v !== undefined && v !== null));
}

export function identificationTree(prospectId: string, personId: string): XmlNode[] {
  return [
    { '@_IDType': 'ProspectID', '@_IDValue': prospectId, '@_OrganizationName': 'ResMan' },
    { '@_IDType': 'PersonID', '@_IDValue': personId, '@_OrganizationName': 'ResMan' },
  ];
}

function customerTree(prospect: SimProspect, person: SimPerson): XmlNode {
  return compact({
    '@_Type': customerTypeOf(prospect.status),
    Identification: identificationTree(prospect.prospectId, person.personId),
    Name: compact({ FirstName: person.firstName, MiddleName: person.middleName, LastName: person.lastName }),
    Email: person.email,
    Phone: person.phones.length === 0
      ? undefined
      : person.phones.map((p) => compact({ '@_PhoneType': p.type, PhoneNumber: p.number })),
  });
}

function splitName(full: string): { FirstName: string; LastName?: string } {
  const space = full.indexOf(' ');
  return space < 0 ? { FirstName: full } : { FirstName: full.slice(0, space), LastName: full.slice(space + 1) };
}

function eventTree(event: SimEvent): XmlNode {
  return compact({
    '@_EventType': event.interactionType,
    '@_EventDate': event.date,
    EventID: { '@_IDValue': event.communicationLogId },
    Agent: event.agentId === null
      ? undefined
      : compact({ AgentID: { '@_IDValue': event.agentId }, AgentName: event.employee === null ? undefined : splitName(event.employee) }),
    FirstContact: event.firstContact ? 'True' : 'False',
    TransactionSource: event.transactionSource,
    Comments: event.description,
    EventReasons: event.eventReasons,
    UnitID: event.unitId,
  });
}

export function prospectTree(prospect: SimProspect): XmlNode {
  return {
    Customers: { Customer: prospect.people.map((person) => customerTree(prospect, person)) },
    CustomerPreferences: prospect.preferences,
    Events: { Event: prospect.events.map(eventTree) },
  };
}

export function leadManagementTree(prospects: XmlNode[]): XmlNode {
  return { LeadManagement: { Prospects: { Prospect: prospects } } };
}
