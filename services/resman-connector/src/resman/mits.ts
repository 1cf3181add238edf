// MITS Lead Management 4.0 as ResMan takes it (RESMAN.md): guest cards built with fast-xml-parser's
// XMLBuilder, so every value is escaped by the builder and never spliced into markup by hand; and the
// JSON answers of PostLeadManagement4_0 / SearchProspects read back into plain records.
import { XMLBuilder } from 'fast-xml-parser';
import { isPlaceholderEmail, resmanPhone } from '../domain/contact.ts';

export interface GuestCardCustomer {
  /** Set both when updating a known prospect: ResMan then changes that record instead of creating one. */
  prospectId?: string | null;
  personId?: string | null;
  firstName?: string | null;
  lastName?: string | null;
  email?: string | null;
  phone?: string | null;
}

export interface GuestCardEvent {
  eventType: string;
  eventDate: Date;
  /** A ResMan employee id. */
  agentId: string;
  firstContact: boolean;
  /** Prospect source id (for Cancel, the lost-reason id). */
  transactionSource: string;
  comments?: string | null;
}

export interface GuestCard {
  customer: GuestCardCustomer;
  events: GuestCardEvent[];
}

const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', suppressEmptyNode: true, processEntities: true });

/** ResMan reads a zone-less stamp as UTC; seconds precision. */
export function mitsDate(date: Date): string {
  return date.toISOString().slice(0, 19);
}

const present = (value: string | null | undefined): value is string => typeof value === 'string' && value.trim() !== '';

function customerNode(c: GuestCardCustomer): Record<string, unknown> {
  const ids = [
    ...(present(c.prospectId) ? [{ '@_IDType': 'ProspectID', '@_IDValue': c.prospectId, '@_OrganizationName': 'ResMan' }] : []),
    ...(present(c.personId) ? [{ '@_IDType': 'PersonID', '@_IDValue': c.personId, '@_OrganizationName': 'ResMan' }] : []),
  ];
  const name = {
    ...(present(c.firstName) ? { FirstName: c.firstName.trim() } : {}),
    ...(present(c.lastName) ? { LastName: c.lastName.trim() } : {}),
  };
  // Last line of defence: placeholder contact values never leave the connector.
  const email = present(c.email) && !isPlaceholderEmail(c.email) ? c.email.trim() : undefined;
  const phone = present(c.phone) ? resmanPhone(c.phone) : null;
  return {
    '@_Type': 'prospect',
    ...(ids.length > 0 ? { Identification: ids } : {}),
    ...(Object.keys(name).length > 0 ? { Name: name } : {}),
    ...(email !== undefined ? { Email: email } : {}),
    ...(phone !== null ? { Phone: { '@_PhoneType': 'cell', PhoneNumber: phone } } : {}),
  };
}

function eventNode(e: GuestCardEvent): Record<string, unknown> {
  return {
    '@_EventType': e.eventType,
    '@_EventDate': mitsDate(e.eventDate),
    Agent: { AgentID: { '@_IDValue': e.agentId } },
    FirstContact: e.firstContact ? 'True' : 'False',
    TransactionSource: e.transactionSource,
    ...(present(e.comments) ? { Comments: e.comments } : {}),
  };
}

/** The `Xml` field of MITS/PostLeadManagement4_0 for one prospect. */
export function buildGuestCardXml(card: GuestCard): string {
  const prospect = {
    Customers: { Customer: [customerNode(card.customer)] },
    ...(card.events.length > 0 ? { Events: { Event: card.events.map(eventNode) } } : {}),
  };
  return builder.build({ LeadManagement: { Prospects: { Prospect: [prospect] } } }) as string;
}

// ---------------------------------------------------------------- reading ResMan's JSON answers

export interface ResmanPerson {
  personId: string;
  customerType: string | null;
  firstName: string | null;
  lastName: string | null;
  email: string | null;
  phones: string[];
}

export interface ResmanEvent {
  eventType: string | null;
  eventDate: string | null;
  comments: string | null;
}

export interface ResmanProspect {
  prospectId: string;
  people: ResmanPerson[];
  events: ResmanEvent[];
}

export class MitsResponseError extends Error {
  override name = 'MitsResponseError';
}

type Node = Record<string, unknown>;

const asNode = (value: unknown): Node | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Node) : undefined;

// ResMan's JSON renders a single repeatable element as an object on some endpoints; accept both.
const asArray = (value: unknown): unknown[] => (value === undefined || value === null ? [] : Array.isArray(value) ? value : [value]);

// Attributes arrive without a prefix in JSON; tolerate the XML-style "@_" too.
function field(node: Node | undefined, name: string): unknown {
  return node?.[name] ?? node?.[`@_${name}`];
}

function text(value: unknown): string | null {
  if (typeof value === 'number') return String(value);
  const raw = typeof value === 'string' ? value : asNode(value)?.['#text'];
  if (typeof raw !== 'string') return null;
  const trimmed = raw.trim();
  return trimmed === '' ? null : trimmed;
}

function identifications(customer: Node): { prospectId: string | null; personId: string | null } {
  let prospectId: string | null = null;
  let personId: string | null = null;
  for (const raw of asArray(customer['Identification'])) {
    const id = asNode(raw);
    const org = text(field(id, 'OrganizationName'));
    if (org !== null && org.toLowerCase() !== 'resman') continue;
    const type = text(field(id, 'IDType'))?.toLowerCase();
    const value = text(field(id, 'IDValue'));
    if (value === null) continue;
    if (type === 'prospectid') prospectId = value;
    if (type === 'personid') personId = value;
  }
  return { prospectId, personId };
}

function prospectNodes(envelope: Node): Node[] {
  const response = asNode(envelope['Response']);
  const lead = asNode(response?.['LeadManagement']);
  const prospects = asNode(lead?.['Prospects']);
  return asArray(prospects?.['Prospect']).map(asNode).filter((n): n is Node => n !== undefined);
}

function customersOf(prospect: Node): Node[] {
  return asArray(asNode(prospect['Customers'])?.['Customer']).map(asNode).filter((n): n is Node => n !== undefined);
}

/** ProspectID and PersonID echoed by PostLeadManagement4_0 for the (single) posted customer. */
export function parsePostLeadResponse(envelope: Node): { prospectId: string; personId: string } {
  const customer = prospectNodes(envelope).flatMap(customersOf)[0];
  if (customer === undefined) throw new MitsResponseError('PostLeadManagement4_0 answer has no Prospect/Customers/Customer');
  const { prospectId, personId } = identifications(customer);
  if (prospectId === null || personId === null) throw new MitsResponseError('PostLeadManagement4_0 answer lacks ProspectID or PersonID');
  return { prospectId, personId };
}

/** The prospects of a SearchProspects answer, with their people and events. */
export function parseSearchProspects(envelope: Node): ResmanProspect[] {
  return prospectNodes(envelope).flatMap((prospect): ResmanProspect[] => {
    const people: ResmanPerson[] = [];
    let prospectId: string | null = null;
    for (const customer of customersOf(prospect)) {
      const ids = identifications(customer);
      prospectId ??= ids.prospectId;
      if (ids.personId === null) continue;
      const name = asNode(customer['Name']);
      people.push({
        personId: ids.personId,
        customerType: text(field(customer, 'Type')),
        firstName: text(name?.['FirstName']),
        lastName: text(name?.['LastName']),
        email: text(customer['Email']),
        phones: asArray(customer['Phone']).map((p) => text(asNode(p)?.['PhoneNumber']) ?? text(p)).filter((p): p is string => p !== null),
      });
    }
    if (prospectId === null) return [];
    const events = asArray(asNode(prospect['Events'])?.['Event']).map(asNode).filter((n): n is Node => n !== undefined).map((e) => ({
      eventType: text(field(e, 'EventType')),
      eventDate: text(field(e, 'EventDate')),
      comments: text(e['Comments']),
    }));
    return [{ prospectId, people, events }];
  });
}
