import { jest } from '@jest/globals';
import { loadConfig } from '../../config/config.js';
import { JsonLogger } from '../../logging/logger.js';
import { Background } from '../../metrics/background.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import { PresenceService } from './presence.service.js';

describe('PresenceService', () => {
  const alice = { id: 'a', username: 'alice' };
  let presence: PresenceService;
  let events: string[];

  beforeEach(async () => {
    jest.useFakeTimers();
    const logger = new JsonLogger('t', 'silent');
    const metrics = new MetricsService();
    presence = new PresenceService(loadConfig({ PRESENCE_GRACE_MS: '1000' }), logger, new Background(metrics, logger), metrics);
    events = [];
    presence.onPresenceChange((event, channelId, user) => events.push(`${event} ${channelId} ${user.id}`));
    // Changes are announced for channels with subscribers here (a view).
    await presence.watch('c1');
  });
  afterEach(() => jest.useRealTimers());

  it('announces a user once however many sockets join', async () => {
    presence.join('c1', alice, 's1');
    presence.join('c1', alice, 's2');
    expect(events).toEqual(['presence:joined c1 a']);
    expect(await presence.online('c1')).toEqual([alice]);
  });

  it('announces leaving only when the last socket has been gone for the grace', () => {
    presence.join('c1', alice, 's1');
    presence.join('c1', alice, 's2');
    presence.leave('c1', 'a', 's1');
    presence.leave('c1', 'a', 's2');
    jest.advanceTimersByTime(999);
    expect(events).toEqual(['presence:joined c1 a']);
    jest.advanceTimersByTime(1);
    expect(events).toEqual(['presence:joined c1 a', 'presence:left c1 a']);
  });

  it('a socket joining within the grace cancels the leave: no flap', async () => {
    presence.join('c1', alice, 's1');
    presence.leave('c1', 'a', 's1');
    jest.advanceTimersByTime(500);
    presence.join('c1', alice, 's2');
    jest.advanceTimersByTime(5000);
    expect(events).toEqual(['presence:joined c1 a']);
    expect(await presence.online('c1')).toEqual([alice]);
  });

  it('a revocation (grace 0) removes at once; unknown sockets and channels are ignored', async () => {
    presence.join('c1', alice, 's1');
    presence.leave('c1', 'a', 'other');
    presence.leave('c2', 'a', 's1');
    presence.leave('c1', 'a', 's1', 0);
    expect(events).toEqual(['presence:joined c1 a', 'presence:left c1 a']);
    expect(await presence.online('c1')).toEqual([]);
  });

  it('announces nothing for a channel nobody here watches, and a view starts from who is already here', async () => {
    presence.join('c2', alice, 's1');
    expect(events).toEqual([]);
    await presence.watch('c2');
    expect(presence.list('c2')).toEqual([alice]);
    presence.leave('c2', 'a', 's1', 0);
    expect(events).toEqual(['presence:left c2 a']);
  });

  it('forgetting a deleted channel drops it silently, pending leaves included', async () => {
    presence.join('c1', alice, 's1');
    presence.leave('c1', 'a', 's1');
    presence.forget('c1');
    jest.advanceTimersByTime(5000);
    expect(events).toEqual(['presence:joined c1 a']);
    expect(await presence.online('c1')).toEqual([]);
  });
});
