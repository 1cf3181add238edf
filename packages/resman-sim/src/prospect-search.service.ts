// MITS/SearchProspects: the criteria ResMan accepts, combined with AND; no paging, so wide windows overflow.
import { parseMitsDate } from './mits-date.ts';
import { normText, phoneDigits, type ProspectStore } from './prospect-store.ts';
import type { SimProspect } from './sim-types.ts';

export interface SearchCriteria {
  ProspectID?: string | undefined;
  FirstName?: string | undefined;
  LastName?: string | undefined;
  Email?: string | undefined;
  Phone?: string | undefined;
  ModifiedStartDateTime?: string | undefined;
  ModifiedEndDateTime?: string | undefined;
}

export type SearchResult =
  | { kind: 'ok'; prospects: SimProspect[] }
  | { kind: 'error'; error: string }
  | { kind: 'overflow' };

export { phoneDigits };
const norm = normText;

export function searchProspects(
  store: ProspectStore,
  scope: { accountId: number; propertyId: string },
  criteria: SearchCriteria,
  maxWindowResults: number,
): SearchResult {
  const { ProspectID, FirstName, LastName, Email, Phone, ModifiedStartDateTime, ModifiedEndDateTime } = criteria;
  const hasName = FirstName !== undefined || LastName !== undefined;
  const hasWindow = ModifiedStartDateTime !== undefined || ModifiedEndDateTime !== undefined;
  if (ProspectID === undefined && !hasName && Email === undefined && Phone === undefined && !hasWindow) {
    return { kind: 'error', error: 'At least one search criterion is required' };
  }
  if (hasName && (FirstName === undefined || LastName === undefined)) {
    return { kind: 'error', error: 'FirstName and LastName must be searched together' };
  }
  let start: Date | null = null;
  let end: Date | null = null;
  if (hasWindow) {
    start = parseMitsDate(ModifiedStartDateTime);
    end = parseMitsDate(ModifiedEndDateTime);
    if (start === null || end === null) {
      return { kind: 'error', error: 'ModifiedStartDateTime and ModifiedEndDateTime must both be valid dates' };
    }
    if (start > end) return { kind: 'error', error: 'ModifiedStartDateTime must not be after ModifiedEndDateTime' };
  }
  const phone = Phone === undefined ? undefined : phoneDigits(Phone);
  if (phone === '') return { kind: 'error', error: 'Phone must contain digits' };

  // The indexed criterion narrows the candidates; every criterion is still checked on each.
  const candidates = ProspectID !== undefined ? [store.get(ProspectID)].filter((p) => p !== undefined && p.accountId === scope.accountId && norm(p.propertyId) === norm(scope.propertyId)) as SimProspect[]
    : phone !== undefined ? store.withContact(scope.accountId, scope.propertyId, 'phone', phone)
    : Email !== undefined && norm(Email) !== '' ? store.withContact(scope.accountId, scope.propertyId, 'email', Email)
    : store.listFor(scope.accountId, scope.propertyId);
  const matches = candidates.filter((p) => {
    if (ProspectID !== undefined && norm(p.prospectId) !== norm(ProspectID)) return false;
    if (hasName && !p.people.some((person) =>
      norm(person.firstName ?? '') === norm(FirstName ?? '') && norm(person.lastName ?? '') === norm(LastName ?? ''))) return false;
    if (Email !== undefined && !p.people.some((person) => norm(person.email ?? '') === norm(Email))) return false;
    if (phone !== undefined && !p.people.some((person) => person.phones.some((ph) => phoneDigits(ph.number) === phone))) return false;
    if (start !== null && end !== null) {
      const modified = Date.parse(p.lastModified);
      if (modified < start.getTime() || modified > end.getTime()) return false;
    }
    return true;
  });
  if (hasWindow && matches.length > maxWindowResults) return { kind: 'overflow' };
  matches.sort((a, b) => a.lastModified.localeCompare(b.lastModified));
  return { kind: 'ok', prospects: matches };
}
