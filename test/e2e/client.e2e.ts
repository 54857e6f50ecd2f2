import { type ConnectionState, connect } from '../../client/index.js';
import { until } from '../support/wait.js';
import { hubForFile, registerUser } from './support/hub.js';

const settledState = (states: ConnectionState[], status: ConnectionState['status']) => until(`state ${status}`, () => states.some((s) => s.status === status), 10_000, 20);

describe('the client library: what is final and what is not', () => {
  const ctx = hubForFile({ JWT_TTL: '2s' });

  it('a token that expires: session:revoked, then the state is closed (expired) and waiting publishes fail CLOSED', async () => {
    const user = await registerUser(ctx.call, 'exp');
    const c = connect({ url: ctx.hub.url, token: user.token });
    const states: ConnectionState[] = [];
    c.state.subscribe((s) => states.push(s));
    await settledState(states, 'connected');
    await settledState(states, 'closed');
    expect(states.at(-1)).toEqual({ status: 'closed', reason: 'expired' });
    expect(states.some((s) => s.status === 'reconnecting')).toBe(false);
    await expect(c.publish('00000000-0000-4000-8000-000000000000', 1)).rejects.toMatchObject({ code: 'CLOSED' });
    c.close();
  });

  it('a refused handshake (a forged token) is final: closed, unauthorized', async () => {
    const c = connect({ url: ctx.hub.url, token: 'not.a.token' });
    const states: ConnectionState[] = [];
    c.state.subscribe((s) => states.push(s));
    await settledState(states, 'closed');
    expect(states.at(-1)).toEqual({ status: 'closed', reason: 'unauthorized' });
    c.close();
  });

  it('offline, publishes wait up to the bound and the next one is refused QUEUE_FULL; close() fails the waiting ones and ends the connection', async () => {
    const user = await registerUser(ctx.call, 'queue');
    const c = connect({ url: 'http://127.0.0.1:9', token: user.token, maxQueued: 2 });
    const waiting = [c.publish('c', 1), c.publish('c', 2)];
    await expect(c.publish('c', 3)).rejects.toMatchObject({ code: 'QUEUE_FULL' });
    c.close();
    for (const w of waiting) await expect(w).rejects.toMatchObject({ code: 'CLOSED' });
    expect(c.state.value).toEqual({ status: 'closed', reason: 'closed by the app' });
  });
});

describe('the client library: presence and typing', () => {
  const ctx = hubForFile({ PRESENCE_GRACE_MS: '100' });

  it('presence is kept current from the ack and the events; typing reaches the other user', async () => {
    const alice = await registerUser(ctx.call, 'pa');
    const bob = await registerUser(ctx.call, 'pb');
    const channelId = (await ctx.call('POST', '/api/channels', { name: `libp-${Date.now()}` }, alice.token)).body.id;
    const a = connect({ url: ctx.hub.url, token: alice.token });
    const b = connect({ url: ctx.hub.url, token: bob.token });
    try {
      const typing: string[] = [];
      const subA = a.subscribe(channelId, { onMessage: () => undefined, onTyping: (u) => typing.push(u.username) });
      await subA.ready;
      expect(subA.presence.value.map((u) => u.id)).toEqual([alice.id]);
      const subB = b.subscribe(channelId, { onMessage: () => undefined });
      await subB.ready;
      expect(subB.presence.value.map((u) => u.id).sort()).toEqual([alice.id, bob.id].sort());
      await until('alice to see bob', () => subA.presence.value.some((u) => u.id === bob.id), 5_000, 20);
      b.typing(channelId);
      await until('alice to see bob typing', () => typing.includes(bob.username), 5_000, 20);
      subB.unsubscribe();
      await until('alice to see bob leave', () => !subA.presence.value.some((u) => u.id === bob.id), 5_000, 20);
    } finally {
      a.close();
      b.close();
    }
  });
});
