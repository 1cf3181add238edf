// A property's ResMan integration: whether it pushes at all, and how its health follows each push.

/** The integration's settings that decide whether DomIQ messages are pushed to ResMan. */
export interface IntegrationSwitches {
  syncEnabled: boolean;
  syncDirection: string;
  syncStatus: string;
}

/** Enabled, not pull-only, and neither paused nor disconnected ('error' still pushes: a success clears it). */
export function pushesToResman(integration: IntegrationSwitches): boolean {
  if (!integration.syncEnabled || integration.syncDirection === 'from_resman') return false;
  return integration.syncStatus !== 'paused' && integration.syncStatus !== 'disconnected';
}

export interface IntegrationHealth {
  syncStatus: string;
  errorCount: number;
}

/** After a push that did not go through: one more error; refused credentials put the integration in 'error'. */
export function afterFailedPush(health: IntegrationHealth, failure: { auth: boolean }, at: Date): IntegrationHealth & { lastSyncAt: Date } {
  return { syncStatus: failure.auth ? 'error' : health.syncStatus, errorCount: health.errorCount + 1, lastSyncAt: at };
}

/** After a push that went through: errors forgotten, and an integration in 'error' is active again. */
export function afterSuccessfulPush(health: IntegrationHealth, at: Date): IntegrationHealth & { lastSyncAt: Date; lastSuccessfulSyncAt: Date } {
  return { syncStatus: health.syncStatus === 'error' ? 'active' : health.syncStatus, errorCount: 0, lastSyncAt: at, lastSuccessfulSyncAt: at };
}

/** How stale a healthy integration's last_successful_sync_at may be before a successful push writes it again. */
export const HEALTH_WRITE_INTERVAL_MS = 1000;

/**
 * Whether a successful push must write the integration's health: always when it is not healthy already (errors to
 * forget, an 'error' to clear, never synced), otherwise only when its last success is older than `intervalMs`. The
 * times are "when did it last work", not counters: writing them on every push of a busy integration cost two round
 * trips per push for a change nobody can see.
 */
export function successNeedsRecording(health: IntegrationHealth & { lastSuccessfulSyncAt?: Date | null }, at: Date, intervalMs = HEALTH_WRITE_INTERVAL_MS): boolean {
  if (health.syncStatus === 'error' || health.errorCount > 0 || !health.lastSuccessfulSyncAt) return true;
  return at.getTime() - health.lastSuccessfulSyncAt.getTime() >= intervalMs;
}

/** Integrations are one per property: the property's is another account's, so to this one it does not exist. */
export class PropertyOfAnotherAccountError extends Error {
  override name = 'PropertyOfAnotherAccountError';
  readonly propertyId: string;
  constructor(propertyId: string) {
    super(`property ${propertyId} not found`);
    this.propertyId = propertyId;
  }
}
