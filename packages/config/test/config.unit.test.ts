import { describe, expect, it } from 'vitest';
import { baseConfigShape, ConfigError, loadConfig, port, z } from '../src/index.ts';

describe('loadConfig', () => {
  it('applies defaults and coerces numbers', () => {
    const c = loadConfig({ ...baseConfigShape, GRPC_PORT: port(50051) }, { GRPC_PORT: '6000' });
    expect(c.GRPC_PORT).toBe(6000);
    expect(c.NATS_URL).toBe('nats://127.0.0.1:4222');
  });
  it('names every bad or missing variable in one error', () => {
    const shape = { ...baseConfigShape, GRPC_PORT: port(50051), API_KEY: z.string().min(1) };
    try {
      loadConfig(shape, { DATABASE_URL: 'mysql://x', GRPC_PORT: 'seventy' });
      expect.unreachable('should have thrown');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const e = err as ConfigError;
      expect(e.variables.sort()).toEqual(['API_KEY', 'DATABASE_URL', 'GRPC_PORT']);
      expect(e.message).toMatch(/API_KEY: is required/);
      expect(e.message).toMatch(/DATABASE_URL: must be a postgres or postgresql URL/);
    }
  });
});
