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

export class ProspectStore {
  #prospects = new Map<string, SimProspect>();
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
    this.#prospects.set(prospect.prospectId.toLowerCase(), prospect);
  }

  list(): SimProspect[] {
    return [...this.#prospects.values()];
  }

  listFor(accountId: number, propertyId: string): SimProspect[] {
    const property = propertyId.toLowerCase();
    return this.list().filter((p) => p.accountId === accountId && p.propertyId.toLowerCase() === property);
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
