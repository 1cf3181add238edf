import { z } from '@domiq/config';
import { parseAllowedTargets } from './allow-list.ts';

/** DOMIQ_ALLOWED_TARGETS as a config variable: validated at start-up (exit 78 naming a bad entry), default none. */
export const allowedTargetsConfig = () =>
  z.string().default('').superRefine((value, ctx) => {
    try {
      parseAllowedTargets(value);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  });
