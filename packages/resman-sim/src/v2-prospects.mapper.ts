// Partners API v2 (JSON reads): the field names of GET /Prospects from RESMAN.md.
import type { SimCatalog, SimProspect } from './sim-types.ts';

export interface V2Person {
  personId: string;
  firstName: string | null;
  middleName: string | null;
  lastName: string | null;
  email: string | null;
  phone: string | null;
  phoneType: string | null;
  isMainContact: boolean;
}

export interface V2CommunicationLogEntry {
  communicationLogId: string;
  date: string;
  interactionType: string;
  contactType: string | null;
  description: string | null;
  note: string | null;
  // The employee's display name, as the v2 log carries it.
  employee: string | null;
}

export interface V2Prospect {
  prospectId: string;
  propertyId: string;
  mainPersonId: string;
  lastModified: string;
  prospectSourceId: string | null;
  prospectSourceName: string | null;
  status: SimProspect['status'];
  firstContactMethod: string | null;
  firstContactDate: string | null;
  lostDate: string | null;
  lostReason: string | null;
  leasingAgent: { agentId: string; firstName: string | null; lastName: string | null } | null;
  people: V2Person[];
  communicationLog?: V2CommunicationLogEntry[];
}

function leasingAgentOf(prospect: SimProspect, catalog: SimCatalog): V2Prospect['leasingAgent'] {
  if (prospect.leasingAgentId === null) return null;
  const employee = catalog.employees.find((e) => e.ID.toLowerCase() === prospect.leasingAgentId?.toLowerCase());
  const name = employee?.Name ?? '';
  const space = name.indexOf(' ');
  return {
    agentId: prospect.leasingAgentId,
    firstName: name === '' ? null : space < 0 ? name : name.slice(0, space),
    lastName: space < 0 ? null : name.slice(space + 1),
  };
}

export function toV2Prospect(prospect: SimProspect, catalog: SimCatalog, includeCommunicationLog: boolean): V2Prospect {
  const v2: V2Prospect = {
    prospectId: prospect.prospectId,
    propertyId: prospect.propertyId,
    mainPersonId: prospect.mainPersonId,
    lastModified: prospect.lastModified,
    prospectSourceId: prospect.prospectSourceId,
    prospectSourceName: prospect.prospectSourceName,
    status: prospect.status,
    firstContactMethod: prospect.firstContactMethod,
    firstContactDate: prospect.firstContactDate,
    lostDate: prospect.lostDate,
    lostReason: prospect.lostReason,
    leasingAgent: leasingAgentOf(prospect, catalog),
    people: prospect.people.map((p) => ({
      personId: p.personId,
      firstName: p.firstName,
      middleName: p.middleName,
      lastName: p.lastName,
      email: p.email,
      phone: p.phones[0]?.number ?? null,
      phoneType: p.phones[0]?.type ?? null,
      isMainContact: p.isMainContact,
    })),
  };
  if (includeCommunicationLog) {
    v2.communicationLog = prospect.events.map((e) => ({
      communicationLogId: e.communicationLogId,
      date: e.date,
      interactionType: e.interactionType,
      contactType: e.contactType,
      description: e.description,
      note: e.note,
      employee: e.employee,
    }));
  }
  return v2;
}
