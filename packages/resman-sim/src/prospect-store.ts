// In-memory prospect store; mutation rules live in lead-management.service.ts, this only holds and finds.
import { randomUUID } from 'node:crypto';
import type { ProspectStatus, SimEvent, SimPerson, SimPhone, SimProspect } from './sim-types.ts';

export interface SeedPersonInput {
  firstName?: string;
  lastName?: string;
  middleName?: string;
  email?: string;
  phone?: string;
  phoneType?: string;
}

export interface SeedProspectInput {
  accountId: number;
  propertyId: string;
  people: SeedPersonInput[];
  status?: ProspectStatus;
  prospectSourceId?: string;
  prospectSourceName?: string;
  lastModified?: Date;
  events?: Array<Partial<SimEvent> & { interactionType: string }>;
}

// Compares the national number only, so "+1 (512) 555-0100" finds "512-555-0100".
export function phoneDigits(value: string): string {
  const digits = value.replace(/\D/g, '');
  return digits.length === 11 && digits.startsWith('1') ? digits.slice(1) : digits;
}

export const normText = (value: string): string => value.trim().toLowerCase();

const scopeKey = (accountId: number, propertyId: string) => `${accountId}|${propertyId.toLowerCase()}`;

/**
 * Holds the prospects by id, by property, and by the contact details searches look them up by (a phone's digits, an
 * email), as ResMan's own indexes would: a search costs what it finds, not the size of the property's history (a
 * benchmark's simulator holds thousands of cards). The contact index follows a prospect's people: a service that
 * changes them calls `changed`.
 */
export class ProspectStore {
  #prospects = new Map<string, SimProspect>();
  #byScope = new Map<string, Map<string, SimProspect>>();
  #byContact = new Map<string, Set<string>>();
  #contactKeys = new Map<string, string[]>();
  #now: () => Date;

  constructor(now: () => Date) {
    this.#now = now;
  }

  get size(): number {
    return this.#prospects.size;
  }

  // Live record, for the services that mutate it; tests should prefer snapshot().
  get(prospectId: string): SimProspect | undefined {
    return this.#prospects.get(prospectId.toLowerCase());
  }

  insert(prospect: SimProspect): void {
    const id = prospect.prospectId.toLowerCase();
    this.#prospects.set(id, prospect);
    const scope = scopeKey(prospect.accountId, prospect.propertyId);
    if (!this.#byScope.has(scope)) this.#byScope.set(scope, new Map());
    this.#byScope.get(scope)!.set(id, prospect);
    this.changed(prospect);
  }

  /** The prospect's people changed (names, phones, emails, roommates): its contact index entries follow. */
  changed(prospect: SimProspect): void {
    const id = prospect.prospectId.toLowerCase();
    for (const key of this.#contactKeys.get(id) ?? []) this.#byContact.get(key)?.delete(id);
    const scope = scopeKey(prospect.accountId, prospect.propertyId);
    const keys = new Set<string>();
    for (const person of prospect.people) {
      for (const ph of person.phones) keys.add(`${scope}|phone|${phoneDigits(ph.number)}`);
      if (person.email) keys.add(`${scope}|email|${normText(person.email)}`);
    }
    for (const key of keys) {
      if (!this.#byContact.has(key)) this.#byContact.set(key, new Set());
      this.#byContact.get(key)!.add(id);
    }
    this.#contactKeys.set(id, [...keys]);
  }

  list(): SimProspect[] {
    return [...this.#prospects.values()];
  }

  listFor(accountId: number, propertyId: string): SimProspect[] {
    return [...(this.#byScope.get(scopeKey(accountId, propertyId))?.values() ?? [])];
  }

  /** The property's prospects with a person having this phone (digits as phoneDigits gives them) or this email. */
  withContact(accountId: number, propertyId: string, kind: 'phone' | 'email', value: string): SimProspect[] {
    const ids = this.#byContact.get(`${scopeKey(accountId, propertyId)}|${kind}|${kind === 'email' ? normText(value) : value}`);
    return ids ? [...ids].map((id) => this.#prospects.get(id)!) : [];
  }

  findByPerson(accountId: number, propertyId: string, personId: string): SimProspect | undefined {
    const id = personId.toLowerCase();
    return this.listFor(accountId, propertyId).find((p) => p.people.some((person) => person.personId.toLowerCase() === id));
  }

  // Deep copies, so a test holding one cannot change the simulator behind its back.
  snapshot(): SimProspect[] {
    return structuredClone(this.list());
  }

  clear(): void {
    this.#prospects.clear();
    this.#byScope.clear();
    this.#byContact.clear();
    this.#contactKeys.clear();
  }

  // Inserts a prospect without MITS validation: for seeding large or back-dated data sets in tests and demos.
  seed(input: SeedProspectInput): SimProspect {
    const stamp = (input.lastModified ?? this.#now()).toISOString();
    const people: SimPerson[] = input.people.map((p, index) => ({
      personId: randomUUID(),
      firstName: p.firstName ?? null,
      middleName: p.middleName ?? null,
      lastName: p.lastName ?? null,
      email: p.email ?? null,
      phones: p.phone === undefined ? [] : [{ number: p.phone, type: p.phoneType ?? 'cell' } satisfies SimPhone],
      isMainContact: index === 0,
      createdAt: stamp,
      lastModified: stamp,
    }));
    const main = people[0];
    if (!main) throw new Error('seed: a prospect needs at least one person');
    const prospect: SimProspect = {
      prospectId: randomUUID(),
      accountId: input.accountId,
      propertyId: input.propertyId,
      mainPersonId: main.personId,
      status: input.status ?? 'Prospect',
      prospectSourceId: input.prospectSourceId ?? null,
      prospectSourceName: input.prospectSourceName ?? null,
      firstContactMethod: null,
      firstContactDate: null,
      lostDate: null,
      lostReason: null,
      lostReasonId: null,
      leasingAgentId: null,
      preferences: {},
      people,
      events: (input.events ?? []).map((e) => ({
        communicationLogId: randomUUID(),
        date: stamp,
        contactType: null,
        description: null,
        note: null,
        eventReasons: null,
        agentId: null,
        employee: null,
        firstContact: false,
        transactionSource: null,
        unitId: null,
        recordedAt: stamp,
        ...e,
      })),
      createdAt: stamp,
      lastModified: stamp,
    };
    this.insert(prospect);
    return prospect;
  }
}
