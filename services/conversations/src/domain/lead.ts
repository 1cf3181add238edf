// The leasing lead's rules: which status moves are allowed, and what a change changes. Pure: app/update-lead.ts applies
// them. Statuses: new -> contacted -> qualified -> tour_scheduled -> toured -> application -> leased, or lost (with a
// reason) from anywhere; a lost lead can be reactivated to any other status. Moving back (a tour cancelled, an
// application withdrawn) is allowed, as agents correct what happened; a leased lead only becomes lost (a cancelled lease).
import type { LeadStatus } from '@domiq/proto/vocabulary';

export interface Pet {
  type: string;
  count: number;
}

/** The lead's fields that change: what UpdateLead and the annotator may set. */
export interface LeadFields {
  status: LeadStatus;
  lostReason: string | null;
  aiIntentSummary: string | null;
  isQualified: boolean;
  isBookTour: boolean;
  tourAt: Date | null;
  leadSource: string | null;
  moveIn: string | null;
  bedrooms: number | null;
  bathrooms: number | null;
  rentMin: number | null;
  rentMax: number | null;
  pets: Pet[];
  occupants: number | null;
  desiredUnit: string | null;
  desiredFloorplan: string | null;
}

export type LeadField = keyof LeadFields;

/** A lead nobody has changed yet. */
export const DEFAULT_LEAD: Readonly<LeadFields> = {
  status: 'new', lostReason: null, aiIntentSummary: null, isQualified: false, isBookTour: false, tourAt: null, leadSource: null, moveIn: null,
  bedrooms: null, bathrooms: null, rentMin: null, rentMax: null, pets: [], occupants: null, desiredUnit: null, desiredFloorplan: null,
};

/** The field names as the contract spells them (LeadChanges / conversation.updated's changed_fields). */
export const LEAD_FIELD_NAMES: Record<LeadField, string> = {
  status: 'status', lostReason: 'lost_reason', aiIntentSummary: 'ai_intent_summary', isQualified: 'is_qualified', isBookTour: 'is_book_tour',
  tourAt: 'tour_at', leadSource: 'lead_source', moveIn: 'move_in', bedrooms: 'bedrooms', bathrooms: 'bathrooms', rentMin: 'rent_min',
  rentMax: 'rent_max', pets: 'pets', occupants: 'occupants', desiredUnit: 'desired_unit', desiredFloorplan: 'desired_floorplan',
};

export class IllegalLeadChangeError extends Error {
  override name = 'IllegalLeadChangeError';
  readonly field: string;
  constructor(field: string, problem: string) {
    super(`${field}: ${problem}`);
    this.field = field;
  }
}

const same = (a: unknown, b: unknown): boolean => {
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  if (Array.isArray(a) || Array.isArray(b)) return JSON.stringify(a) === JSON.stringify(b);
  return a === b;
};

/**
 * The lead after `changes` and the fields that changed (none: nothing to write). Throws IllegalLeadChangeError for a
 * move the rules refuse or fields that contradict each other (rent_min above rent_max, lost without a reason).
 */
export function applyLeadChanges(current: Readonly<LeadFields>, changes: Partial<LeadFields>): { next: LeadFields; changed: LeadField[] } {
  const next: LeadFields = { ...current, ...changes };
  if (changes.status !== undefined && changes.status !== current.status) {
    if (current.status === 'leased' && changes.status !== 'lost') throw new IllegalLeadChangeError('status', `a leased lead can only become lost, not ${changes.status}`);
  }
  // A reactivated lead keeps no reason for a loss that no longer holds.
  if (next.status !== 'lost' && changes.lostReason === undefined && current.status === 'lost') next.lostReason = null;
  if (next.status === 'lost' && !next.lostReason) throw new IllegalLeadChangeError('lost_reason', 'is required when the lead is lost');
  if (next.rentMin !== null && next.rentMax !== null && next.rentMin > next.rentMax) throw new IllegalLeadChangeError('rent_min', 'must not be above rent_max');
  const changed = (Object.keys(LEAD_FIELD_NAMES) as LeadField[]).filter((f) => !same(current[f], next[f]));
  return { next, changed };
}
