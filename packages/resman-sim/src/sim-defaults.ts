// Default identities and catalogues of the simulator, exported so the demo seeder, the connector's
// tests and the CLI all post against the very same ids.
import type { SimEmployee, SimNamedItem } from './sim-types.ts';

export const DEFAULT_PARTNER_ID = 'domiq-partner';
export const DEFAULT_API_KEY = 'sim-api-key';
export const DEFAULT_ACCOUNT_ID = 400;
export const DEFAULT_PROPERTY_ID = '6f7c3a7e-1d1b-4c53-9f59-2d0b5a1e8c11';
export const DEFAULT_PORT = 8090;
export const DEFAULT_HOST = '127.0.0.1';
// ResMan has no paging on SearchProspects: wider windows fail with 502 "buffer overflow".
export const DEFAULT_MAX_WINDOW_RESULTS = 500;

export const DEMO_AGENT_ID = 'e0c7a1f2-5b3d-4e8a-9c61-7d2f4b8a1e01';
export const DEMO_MANAGER_ID = 'e0c7a1f2-5b3d-4e8a-9c61-7d2f4b8a1e02';

export const DOMIQ_PROSPECT_SOURCE_ID = '5a1d0c3e-8f2b-4b7a-a6e4-1c9d2f3b4a01';
export const WEBSITE_PROSPECT_SOURCE_ID = '5a1d0c3e-8f2b-4b7a-a6e4-1c9d2f3b4a02';
export const WALK_IN_PROSPECT_SOURCE_ID = '5a1d0c3e-8f2b-4b7a-a6e4-1c9d2f3b4a03';

export const LOST_REASON_RENTED_ELSEWHERE_ID = '7b2e4f6a-3c1d-4e5f-8a9b-0c1d2e3f4a01';
export const LOST_REASON_PRICE_TOO_HIGH_ID = '7b2e4f6a-3c1d-4e5f-8a9b-0c1d2e3f4a02';
export const LOST_REASON_NO_RESPONSE_ID = '7b2e4f6a-3c1d-4e5f-8a9b-0c1d2e3f4a03';

export const DEFAULT_EMPLOYEES: readonly SimEmployee[] = [
  { ID: DEMO_AGENT_ID, Name: 'Demo Agent', Email: 'demo.agent@domiq.example', SecurityGroup: 'Leasing Agent' },
  { ID: DEMO_MANAGER_ID, Name: 'Demo Manager', Email: 'demo.manager@domiq.example', SecurityGroup: 'Property Manager' },
];

export const DEFAULT_PROSPECT_SOURCES: readonly SimNamedItem[] = [
  { ID: DOMIQ_PROSPECT_SOURCE_ID, Name: 'DomIQ' },
  { ID: WEBSITE_PROSPECT_SOURCE_ID, Name: 'Property Website' },
  { ID: WALK_IN_PROSPECT_SOURCE_ID, Name: 'Walk-In' },
];

export const DEFAULT_LOST_PROSPECT_REASONS: readonly SimNamedItem[] = [
  { ID: LOST_REASON_RENTED_ELSEWHERE_ID, Name: 'Rented Elsewhere' },
  { ID: LOST_REASON_PRICE_TOO_HIGH_ID, Name: 'Price Too High' },
  { ID: LOST_REASON_NO_RESPONSE_ID, Name: 'Inactive (Lack of Response)' },
];

// Event types ResMan accepts on a MITS guest card (RESMAN.md).
export const MITS_EVENT_TYPES: readonly string[] = [
  'EmailToProspect', 'EmailFromProspect', 'EmailFromILS', 'Email',
  'CallToProspect', 'CallFromProspect', 'Phone', 'TextToProspect', 'TextFromProspect',
  'Contact', 'WalkIn', 'Show', 'Appointment', 'Application', 'Approved', 'LeaseSign',
  'Cancel', 'ReActivate', 'Other',
];
