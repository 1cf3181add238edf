// The simulator's in-memory model: one record per ResMan prospect, shaped after the v2 read API.

export type ProspectStatus = 'Prospect' | 'Lost' | 'Applicant' | 'Resident';

export interface SimEmployee { ID: string; Name: string; Email: string; SecurityGroup: string }
export interface SimNamedItem { ID: string; Name: string }
export interface SimAccount { accountId: number; propertyIds: string[] }

export interface SimPhone { number: string; type: string | null }

export interface SimPerson {
  personId: string;
  firstName: string | null;
  middleName: string | null;
  lastName: string | null;
  email: string | null;
  phones: SimPhone[];
  isMainContact: boolean;
  createdAt: string;
  lastModified: string;
}

// One MITS Event as ResMan keeps it: its communication-log entry.
export interface SimEvent {
  communicationLogId: string;
  date: string;
  interactionType: string;
  contactType: string | null;
  description: string | null;
  note: string | null;
  eventReasons: string | null;
  agentId: string | null;
  employee: string | null;
  firstContact: boolean;
  transactionSource: string | null;
  unitId: string | null;
  recordedAt: string;
}

export interface SimProspect {
  prospectId: string;
  accountId: number;
  propertyId: string;
  mainPersonId: string;
  status: ProspectStatus;
  prospectSourceId: string | null;
  prospectSourceName: string | null;
  firstContactMethod: string | null;
  firstContactDate: string | null;
  lostDate: string | null;
  lostReason: string | null;
  lostReasonId: string | null;
  leasingAgentId: string | null;
  // CustomerPreferences kept as parsed (attributes prefixed "@_") so they echo back unchanged.
  preferences: Record<string, unknown>;
  people: SimPerson[];
  events: SimEvent[];
  createdAt: string;
  lastModified: string;
}

export interface SimCatalog {
  employees: SimEmployee[];
  prospectSources: SimNamedItem[];
  lostProspectReasons: SimNamedItem[];
}
