// UpdateLead's `changes`, checked field by field (INVALID_ARGUMENT naming `changes.<field>`), into the domain's terms.
import { InvalidArgumentError, requireEnum } from '@domiq/grpc';
import type { LeadChanges } from '@domiq/proto/conversations';
import { leadStatuses } from '@domiq/proto/vocabulary';
import type { LeadFields } from '../domain/lead.ts';

const MOVE_IN = /^(\d{4})-(\d{2})(?:-(\d{2}))?$/;

function text(value: string | undefined, field: string, max: number): string | null | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (v.length > max) throw new InvalidArgumentError(`changes.${field}`, `must be at most ${max} characters`);
  return v === '' ? null : v;
}

function number(value: number | undefined, field: string, min: number, max: number, step: number): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isFinite(value) || value < min || value > max || Math.abs(value / step - Math.round(value / step)) > 1e-9) {
    throw new InvalidArgumentError(`changes.${field}`, `must be from ${min} to ${max}${step === 1 ? ', a whole number' : ` in steps of ${step}`}`);
  }
  return value;
}

function moveIn(value: string | undefined): string | null | undefined {
  const v = text(value, 'move_in', 10);
  if (v === undefined || v === null) return v;
  const m = MOVE_IN.exec(v);
  const [y, mo, d] = m ? [Number(m[1]), Number(m[2]), m[3] === undefined ? 1 : Number(m[3])] : [0, 0, 0];
  const date = new Date(Date.UTC(y, mo - 1, d));
  if (!m || date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) {
    throw new InvalidArgumentError('changes.move_in', 'must be a date yyyy-mm-dd, or yyyy-mm for a month');
  }
  return v;
}

function tourAt(value: string | undefined): Date | null | undefined {
  if (value === undefined) return undefined;
  if (value.trim() === '') return null;
  const t = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(t)) throw new InvalidArgumentError('changes.tour_at', 'must be an RFC 3339 date and time');
  return new Date(t);
}

/** The changes the request asks for; only the fields it sets. */
export function leadChangesOf(c: LeadChanges | undefined): Partial<LeadFields> {
  if (!c) throw new InvalidArgumentError('changes', 'is required');
  const out: Partial<LeadFields> = {};
  const set = <K extends keyof LeadFields>(k: K, v: LeadFields[K] | undefined) => {
    if (v !== undefined) out[k] = v;
  };
  if (c.status !== undefined) set('status', requireEnum(leadStatuses, c.status, 'changes.status'));
  set('lostReason', text(c.lostReason, 'lost_reason', 500));
  set('aiIntentSummary', text(c.aiIntentSummary, 'ai_intent_summary', 2000));
  set('isQualified', c.isQualified);
  set('isBookTour', c.isBookTour);
  set('tourAt', tourAt(c.tourAt));
  set('leadSource', text(c.leadSource, 'lead_source', 100));
  set('moveIn', moveIn(c.moveIn));
  set('bedrooms', number(c.bedrooms, 'bedrooms', 0, 20, 0.5));
  set('bathrooms', number(c.bathrooms, 'bathrooms', 0, 20, 0.5));
  set('rentMin', number(c.rentMin, 'rent_min', 0, 1_000_000, 1));
  set('rentMax', number(c.rentMax, 'rent_max', 0, 1_000_000, 1));
  set('occupants', number(c.occupants, 'occupants', 1, 30, 1));
  set('desiredUnit', text(c.desiredUnit, 'desired_unit', 50));
  set('desiredFloorplan', text(c.desiredFloorplan, 'desired_floorplan', 100));
  if (c.setPets) {
    if (c.pets.length > 10) throw new InvalidArgumentError('changes.pets', 'must list at most 10 kinds of pet');
    out.pets = c.pets.map((p, i) => {
      const type = p.type.trim().toLowerCase();
      if (!type || type.length > 30) throw new InvalidArgumentError(`changes.pets[${i}].type`, 'must be 1-30 characters');
      if (!Number.isInteger(p.count) || p.count < 1 || p.count > 20) throw new InvalidArgumentError(`changes.pets[${i}].count`, 'must be from 1 to 20');
      return { type, count: p.count };
    });
  } else if (c.pets.length) {
    throw new InvalidArgumentError('changes.set_pets', 'must be true to change pets');
  }
  return out;
}
