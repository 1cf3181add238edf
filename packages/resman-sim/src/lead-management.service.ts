// MITS/PostLeadManagement4_0 semantics: validate the whole document first, then apply it, so a rejected
// document leaves the store exactly as it was (ResMan answers Status Error and changes nothing).
import { randomUUID } from 'node:crypto';
import { MITS_EVENT_TYPES } from './sim-defaults.ts';
import { parseMitsDate } from './mits-date.ts';
import type { LeadCustomerInput, LeadEventInput, LeadProspectInput, XmlNode } from './mits-lead.xml.ts';
import type { ProspectStore } from './prospect-store.ts';
import type { ProspectStatus, SimCatalog, SimEmployee, SimEvent, SimNamedItem, SimPerson, SimProspect } from './sim-types.ts';

export interface LeadContext {
  store: ProspectStore;
  catalog: SimCatalog;
  accountId: number;
  propertyId: string;
  now: Date;
}

export interface PostedCustomer { prospectId: string; personId: string }
export interface PostedProspect { prospect: SimProspect; customers: PostedCustomer[] }
export type PostLeadResult = { ok: true; prospects: PostedProspect[] } | { ok: false; error: string };

interface PlannedEvent {
  input: LeadEventInput;
  date: Date;
  employee: SimEmployee;
  source: SimNamedItem | null;
  lostReason: SimNamedItem | null;
}

interface PlannedCustomer { input: LeadCustomerInput; person: SimPerson | null }

interface PlannedProspect {
  existing: SimProspect | null;
  customers: PlannedCustomer[];
  preferences: XmlNode | undefined;
  events: PlannedEvent[];
}

class LeadRejection extends Error {}

const sameId = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

function findById<T extends { ID: string }>(items: T[], id: string | undefined): T | undefined {
  return id === undefined ? undefined : items.find((item) => sameId(item.ID, id));
}

function planEvent(ctx: LeadContext, input: LeadEventInput): PlannedEvent {
  const eventType = MITS_EVENT_TYPES.find((t) => t.toLowerCase() === input.eventType.toLowerCase());
  if (eventType === undefined) throw new LeadRejection(`Event type "${input.eventType}" is not valid`);
  const date = input.eventDate === undefined ? ctx.now : parseMitsDate(input.eventDate);
  if (date === null) throw new LeadRejection(`EventDate "${input.eventDate ?? ''}" is not valid`);
  const employee = findById(ctx.catalog.employees, input.agentId);
  if (employee === undefined) throw new LeadRejection('Agent could not be found');
  const normalized = { ...input, eventType };
  if (eventType === 'Cancel') {
    // For Cancel, ResMan reads TransactionSource as the lost-reason id.
    const lostReason = findById(ctx.catalog.lostProspectReasons, input.transactionSource);
    if (lostReason === undefined) throw new LeadRejection('Lost Prospect Reason could not be found');
    return { input: normalized, date, employee, source: null, lostReason };
  }
  const source = findById(ctx.catalog.prospectSources, input.transactionSource);
  if (source === undefined) throw new LeadRejection('Transaction Source could not be found');
  return { input: normalized, date, employee, source, lostReason: null };
}

// A Customer carrying only the ProspectID just names the prospect; it is not a nameless roommate.
function isBareReference(c: LeadCustomerInput): boolean {
  return c.personId === null && c.firstName === undefined && c.middleName === undefined && c.lastName === undefined
    && c.email === undefined && c.phones === undefined;
}

function planProspect(ctx: LeadContext, input: LeadProspectInput): PlannedProspect {
  const prospectIds = new Set(input.customers.flatMap((c) => (c.prospectId === null ? [] : [c.prospectId.toLowerCase()])));
  if (prospectIds.size > 1) throw new LeadRejection('Customers of one Prospect reference different ProspectIDs');
  let existing: SimProspect | null = null;
  const [prospectId] = prospectIds;
  if (prospectId !== undefined) {
    const found = ctx.store.get(prospectId);
    const inScope = found !== undefined && found.accountId === ctx.accountId && sameId(found.propertyId, ctx.propertyId);
    if (!inScope) throw new LeadRejection('Prospect could not be found');
    existing = found;
  } else {
    // A PersonID alone still names its prospect.
    const personId = input.customers.find((c) => c.personId !== null)?.personId;
    if (personId != null) {
      existing = ctx.store.findByPerson(ctx.accountId, ctx.propertyId, personId) ?? null;
      if (existing === null) throw new LeadRejection('Person could not be found');
    }
  }
  const customers = input.customers.filter((c) => !(existing !== null && isBareReference(c))).map((c): PlannedCustomer => {
    if (c.personId === null) {
      if (c.firstName === undefined && c.lastName === undefined) throw new LeadRejection('Customer Name is required');
      return { input: c, person: null };
    }
    const person = existing?.people.find((p) => sameId(p.personId, c.personId ?? '')) ?? null;
    if (person === null) throw new LeadRejection('Person could not be found');
    return { input: c, person };
  });
  if (existing === null && customers.length === 0) throw new LeadRejection('A Prospect requires at least one Customer');
  const events = input.events.map((e) => planEvent(ctx, e));
  return { existing, customers, preferences: input.preferences, events };
}

function newPerson(input: LeadCustomerInput, isMainContact: boolean, stamp: string): SimPerson {
  return {
    personId: randomUUID(),
    firstName: input.firstName ?? null,
    middleName: input.middleName ?? null,
    lastName: input.lastName ?? null,
    email: input.email ?? null,
    phones: input.phones ?? [],
    isMainContact,
    createdAt: stamp,
    lastModified: stamp,
  };
}

function updatePerson(person: SimPerson, input: LeadCustomerInput, stamp: string): void {
  if (input.firstName !== undefined) person.firstName = input.firstName;
  if (input.middleName !== undefined) person.middleName = input.middleName;
  if (input.lastName !== undefined) person.lastName = input.lastName;
  if (input.email !== undefined) person.email = input.email;
  if (input.phones !== undefined) person.phones = input.phones;
  person.lastModified = stamp;
}

const STATUS_AFTER: Partial<Record<string, (current: ProspectStatus) => ProspectStatus>> = {
  Cancel: () => 'Lost',
  ReActivate: () => 'Prospect',
  Application: () => 'Applicant',
  Approved: (current) => (current === 'Prospect' ? 'Applicant' : current),
  LeaseSign: () => 'Resident',
};

function contactTypeOf(eventType: string): string | null {
  if (eventType.startsWith('Email')) return 'Email';
  if (eventType.startsWith('Call') || eventType === 'Phone') return 'Phone';
  if (eventType.startsWith('Text')) return 'Text';
  if (eventType === 'WalkIn' || eventType === 'Show') return 'In Person';
  return null;
}

function applyEvent(prospect: SimProspect, planned: PlannedEvent, stamp: string): void {
  const { input, employee, source, lostReason } = planned;
  const date = planned.date.toISOString();
  const eventReasons = lostReason === null ? (input.eventReasons ?? null) : `Prospect Lost: ${lostReason.Name}`;
  const event: SimEvent = {
    communicationLogId: randomUUID(),
    date,
    interactionType: input.eventType,
    contactType: contactTypeOf(input.eventType),
    description: input.comments ?? null,
    note: eventReasons,
    eventReasons,
    agentId: employee.ID,
    employee: employee.Name,
    firstContact: input.firstContact,
    transactionSource: input.transactionSource ?? null,
    unitId: input.unitId ?? null,
    recordedAt: stamp,
  };
  prospect.events.push(event);
  prospect.leasingAgentId ??= employee.ID;
  if (source !== null && prospect.prospectSourceId === null) {
    prospect.prospectSourceId = source.ID;
    prospect.prospectSourceName = source.Name;
  }
  if (input.firstContact && prospect.firstContactDate === null) {
    prospect.firstContactMethod = input.eventType;
    prospect.firstContactDate = date;
  }
  const next = STATUS_AFTER[input.eventType];
  if (next !== undefined) prospect.status = next(prospect.status);
  if (lostReason !== null) {
    prospect.lostDate = date;
    prospect.lostReason = lostReason.Name;
    prospect.lostReasonId = lostReason.ID;
  } else if (input.eventType === 'ReActivate') {
    prospect.lostDate = null;
    prospect.lostReason = null;
    prospect.lostReasonId = null;
  }
}

function applyProspect(ctx: LeadContext, plan: PlannedProspect): PostedProspect {
  const stamp = ctx.now.toISOString();
  let prospect = plan.existing;
  const posted: Array<{ person: SimPerson }> = [];
  if (prospect === null) {
    const people = plan.customers.map((c, index) => newPerson(c.input, index === 0, stamp));
    const main = people[0];
    if (main === undefined) throw new Error('unreachable: planProspect requires a customer for a new prospect');
    prospect = {
      prospectId: randomUUID(),
      accountId: ctx.accountId,
      propertyId: ctx.propertyId,
      mainPersonId: main.personId,
      status: 'Prospect',
      prospectSourceId: null,
      prospectSourceName: null,
      firstContactMethod: null,
      firstContactDate: null,
      lostDate: null,
      lostReason: null,
      lostReasonId: null,
      leasingAgentId: null,
      preferences: {},
      people,
      events: [],
      createdAt: stamp,
      lastModified: stamp,
    };
    ctx.store.insert(prospect);
    posted.push(...people.map((person) => ({ person })));
  } else {
    for (const c of plan.customers) {
      if (c.person === null) {
        // A Customer without a PersonID on a known prospect is a new roommate.
        const roommate = newPerson(c.input, false, stamp);
        prospect.people.push(roommate);
        posted.push({ person: roommate });
      } else {
        updatePerson(c.person, c.input, stamp);
        posted.push({ person: c.person });
      }
    }
  }
  if (plan.preferences !== undefined) prospect.preferences = { ...prospect.preferences, ...plan.preferences };
  for (const event of plan.events) applyEvent(prospect, event, stamp);
  prospect.lastModified = stamp;
  ctx.store.changed(prospect);
  // An events-only update still echoes every person, so the caller always gets both ids back.
  const echoed = posted.length > 0 ? posted.map((p) => p.person) : prospect.people;
  const prospectId = prospect.prospectId;
  return { prospect, customers: echoed.map((person) => ({ prospectId, personId: person.personId })) };
}

export function postLeadManagement(ctx: LeadContext, prospects: LeadProspectInput[]): PostLeadResult {
  let plans: PlannedProspect[];
  try {
    plans = prospects.map((p) => planProspect(ctx, p));
  } catch (err) {
    if (err instanceof LeadRejection) return { ok: false, error: err.message };
    throw err;
  }
  return { ok: true, prospects: plans.map((plan) => applyProspect(ctx, plan)) };
}
