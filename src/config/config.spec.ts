import { ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('applies the documented defaults with an empty environment', () => {
    const cfg = loadConfig({});
    expect(cfg.PORT).toBe(3000);
    expect(cfg.DATABASE_URL).toBeUndefined();
    expect(cfg.REDIS_URL).toBeUndefined();
    expect(cfg.JWT_TTL).toBe(86_400);
    expect(cfg.MIGRATE_ON_START).toBe(true);
    expect(cfg.MESSAGE_MAX_BYTES).toBe(16_384);
    expect(cfg.PRESENCE_GRACE_MS).toBe(3_000);
    expect(cfg.RECONCILE_MS).toBe(2_000);
    expect(cfg.REPLICA_ID).toMatch(/-\d+$/);
    expect(Object.isFrozen(cfg)).toBe(true);
  });

  it('parses durations, lists and booleans', () => {
    const cfg = loadConfig({
      JWT_TTL: '15m',
      CORS_ORIGINS: 'https://a.example, https://b.example',
      MIGRATE_ON_START: 'false',
      REPLICA_ID: 'r1',
    });
    expect(cfg.JWT_TTL).toBe(900);
    expect(cfg.CORS_ORIGINS).toEqual(['https://a.example', 'https://b.example']);
    expect(cfg.MIGRATE_ON_START).toBe(false);
    expect(cfg.REPLICA_ID).toBe('r1');
  });

  it('treats empty values as unset', () => {
    const cfg = loadConfig({ PORT: '', PRESENCE_GRACE_MS: ' ', JWT_SECRET: '' });
    expect(cfg.PORT).toBe(3000);
    expect(cfg.PRESENCE_GRACE_MS).toBe(3_000);
    expect(cfg.JWT_SECRET).toBeUndefined();
  });

  it('fails fast listing every bad key', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', JWT_TTL: 'soon', MIGRATE_ON_START: 'maybe' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const keys = (error as ConfigError).problems.map((p) => p.split(':')[0]).sort();
    expect(keys).toEqual(['DATABASE_URL', 'JWT_TTL', 'MIGRATE_ON_START', 'PORT']);
  });

  it('refuses a short JWT secret and both secret sources at once', () => {
    expect(() => loadConfig({ JWT_SECRET: 'short' })).toThrow(/JWT_SECRET: must be at least 32/);
    expect(() => loadConfig({ JWT_SECRET: 'x'.repeat(32), JWT_SECRET_FILE: '/s' })).toThrow(/set one, not both/);
  });

  it('reads rate limits as points per window, on by default, and refuses malformed ones', () => {
    const cfg = loadConfig({ RATE_PUBLISH_PER_USER: '20/2m', RATE_AUTH_PER_IP: '5/1h' });
    expect(cfg.RATE_LIMITS).toBe(true);
    expect(cfg.RATE_PUBLISH_PER_USER).toEqual({ points: 20, seconds: 120 });
    expect(cfg.RATE_AUTH_PER_IP).toEqual({ points: 5, seconds: 3_600 });
    expect(cfg.RATE_REST_PER_USER).toEqual({ points: 300, seconds: 5 });
    expect(loadConfig({ RATE_LIMITS: 'off' }).RATE_LIMITS).toBe(false);
    expect(() => loadConfig({ RATE_REST_PER_USER: '100 per second' })).toThrow(/RATE_REST_PER_USER: expected points\/window/);
    expect(() => loadConfig({ RATE_TYPING_PER_SOCKET: '0/5s' })).toThrow(/RATE_TYPING_PER_SOCKET: points and window must be positive/);
  });

  it('refuses fault switches outside the test or bench harness, names an unknown one, and turns none on by default', () => {
    expect(loadConfig({}).FAULTS).toEqual({ exitAfterStore: false, stallFanout: false, stallAdapter: false, busLagMs: 0, subscribeDelayMs: 0, requestDelayMs: 0 });
    expect(() => loadConfig({ FAULTS: 'exit-after-store' })).toThrow(/FAULTS: fault switches run only under the test or bench harness/);
    const faults = loadConfig({ FAULTS: 'exit-after-store, subscribe-delay=400,bus-lag=30', CROSSWIRE_HARNESS: 'test' }).FAULTS;
    expect(faults).toMatchObject({ exitAfterStore: true, subscribeDelayMs: 400, busLagMs: 30, stallFanout: false });
    expect(() => loadConfig({ FAULTS: 'exit-after-stor', CROSSWIRE_HARNESS: 'test' })).toThrow(/unknown fault 'exit-after-stor'/);
    expect(() => loadConfig({ FAULTS: 'subscribe-delay', CROSSWIRE_HARNESS: 'bench' })).toThrow(/unknown fault 'subscribe-delay'/);
    expect(() => loadConfig({ CROSSWIRE_HARNESS: 'production' })).toThrow(/CROSSWIRE_HARNESS/);
  });

  it('keeps a subscribe ack within half of a socket send buffer; by default a quarter of it, at most 256 KiB', () => {
    expect(loadConfig({}).SUBSCRIBE_ACK_MAX_BYTES).toBe(262_144);
    expect(loadConfig({ SOCKET_BUFFER_MAX_BYTES: '262144' }).SUBSCRIBE_ACK_MAX_BYTES).toBe(65_536);
    expect(() => loadConfig({ SOCKET_BUFFER_MAX_BYTES: '262144', SUBSCRIBE_ACK_MAX_BYTES: '262144' })).toThrow(/SUBSCRIBE_ACK_MAX_BYTES: must be at most half/);
  });

  it('holds a refused sign-in 1 s, at most 64 per address, by default; 0 answers at once', () => {
    expect([loadConfig({}).AUTH_REFUSAL_DELAY_MS, loadConfig({}).AUTH_REFUSALS_HELD_PER_IP]).toEqual([1_000, 64]);
    expect(loadConfig({ AUTH_REFUSAL_DELAY_MS: '0' }).AUTH_REFUSAL_DELAY_MS).toBe(0);
    expect(() => loadConfig({ AUTH_REFUSAL_DELAY_MS: '-1' })).toThrow(/AUTH_REFUSAL_DELAY_MS/);
    expect(() => loadConfig({ AUTH_REFUSALS_HELD_PER_IP: '10001' })).toThrow(/AUTH_REFUSALS_HELD_PER_IP/);
  });
});
