// Events resolutions owns (stream RESOLUTIONS).
import { ResolutionOpened } from '../../gen/domiq/resolutions/v1/events.ts';
import { ownedEvents } from '../event-contract.ts';

const event = ownedEvents('resolutions');

export const resolutionsEvents = {
  resolutionOpened: event('resolution.opened', 'resolution', ResolutionOpened),
} as const;
