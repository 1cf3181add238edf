// The lead as the contract carries it (GetLead, UpdateLead and conversation.updated alike).
import type { Lead as LeadMsg } from '@domiq/proto/conversations/lead';
import { leadStatuses } from '@domiq/proto/vocabulary';
import type { LeadFields } from '../domain/lead.ts';

export interface LeadRecord extends LeadFields {
  conversationId: string;
  accountId: string;
  propertyId: string;
  customerId: string;
  version: number;
  updatedAt: Date | null;
  updatedBy: string | null;
}

const opt = <T>(v: T | null): T | undefined => (v === null ? undefined : v);

export function toLeadMsg(l: LeadRecord): LeadMsg {
  return {
    conversationId: l.conversationId, accountId: l.accountId, propertyId: l.propertyId, customerId: l.customerId,
    status: leadStatuses.toProto(l.status), lostReason: l.lostReason ?? '', aiIntentSummary: l.aiIntentSummary ?? '', isQualified: l.isQualified,
    isBookTour: l.isBookTour, tourAt: l.tourAt?.toISOString() ?? '', leadSource: l.leadSource ?? '',
    preferences: {
      moveIn: opt(l.moveIn), bedrooms: opt(l.bedrooms), bathrooms: opt(l.bathrooms), rentMin: opt(l.rentMin), rentMax: opt(l.rentMax), pets: l.pets,
      occupants: opt(l.occupants), desiredUnit: opt(l.desiredUnit), desiredFloorplan: opt(l.desiredFloorplan),
    },
    version: l.version, updatedAt: l.updatedAt?.toISOString() ?? '', updatedBy: l.updatedBy ?? '',
  };
}
