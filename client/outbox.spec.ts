import { jest } from '@jest/globals';
import type { MessageDto } from '../src/events/dto.js';
import { Outbox } from './outbox.js';

type Answer = (err: Error | null, ack?: any) => void;

/** An outbox over a fake hub that records each send and lets the test answer it. */
function harness(max = 3) {
  const sends: Array<{ clientMsgId: string; body: unknown; answer: Answer }> = [];
  let n = 0;
  const outbox = new Outbox(
    (p, answer) => sends.push({ clientMsgId: p.clientMsgId, body: p.body, answer }),
    () => `id${++n}`,
    max,
  );
  const message = (seq: number) => ({ id: 'x', channelId: 'c', seq, authorId: 'a', body: null, clientMsgId: null, createdAt: '' }) as MessageDto;
  return { outbox, sends, message };
}

describe('Outbox (publish until acknowledged)', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('waits for a connection, then sends; a lost answer or a busy hub sends the same clientMsgId again; success resolves once', async () => {
    const { outbox, sends, message } = harness();
    const published = outbox.add('c', 'hello');
    expect(sends).toHaveLength(0);
    outbox.connected();
    sends[0].answer(new Error('operation has timed out'));
    await jest.advanceTimersByTimeAsync(250);
    sends[1].answer(null, { ok: false, error: { code: 'UNAVAILABLE', message: 'db' } });
    await jest.advanceTimersByTimeAsync(500);
    sends[2].answer(null, { ok: true, message: message(1) });
    sends[2].answer(null, { ok: true, message: message(1) });
    expect(await published).toEqual(message(1));
    expect(sends.map((s) => s.clientMsgId)).toEqual(['id1', 'id1', 'id1']);
    expect(outbox.size).toBe(0);
  });

  it('a reconnect sends again what was in flight, and an answer to the earlier send is ignored', async () => {
    const { outbox, sends, message } = harness();
    outbox.connected();
    const published = outbox.add('c', 'x');
    outbox.disconnected();
    outbox.connected();
    expect(sends.map((s) => s.clientMsgId)).toEqual(['id1', 'id1']);
    sends[0].answer(null, { ok: false, error: { code: 'CONFLICT', message: 'stale' } });
    sends[1].answer(null, { ok: true, message: message(4) });
    expect(await published).toEqual(message(4));
  });

  it('a refusal the hub means (CONFLICT, NOT_FOUND, …) fails the publish with its code; a full queue says so; failing all empties it', async () => {
    const { outbox, sends } = harness(2);
    outbox.connected();
    const refused = outbox.add('c', 1);
    sends[0].answer(null, { ok: false, error: { code: 'NOT_FOUND', message: 'channel not found' } });
    await expect(refused).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const a = outbox.add('c', 2);
    const b = outbox.add('c', 3);
    await expect(outbox.add('c', 4)).rejects.toMatchObject({ code: 'QUEUE_FULL' });
    outbox.fail(Object.assign(new Error('closed'), { code: 'CLOSED' }));
    await expect(a).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(b).rejects.toMatchObject({ code: 'CLOSED' });
    expect(outbox.size).toBe(0);
  });
});
