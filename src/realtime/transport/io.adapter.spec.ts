import { EventEmitter } from 'node:events';
import type { Socket } from 'socket.io';
import { loadConfig } from '../../config/config.js';
import { logContext } from '../../logging/logger.js';
import { CrosswireIoAdapter } from './io.adapter.js';

describe('CrosswireIoAdapter', () => {
  it("runs each socket event's handler in a log context naming the socket, so its log lines carry socketId", async () => {
    const adapter = new CrosswireIoAdapter(undefined as never, loadConfig({}), null);
    const seen: Array<Record<string, string> | undefined> = [];
    const handled = new Promise<void>((done) => {
      const socket = Object.assign(new EventEmitter(), { id: 'sock-1', connected: true }) as unknown as Socket;
      adapter.bindMessageHandlers(socket, [
        {
          message: 'ping',
          callback: async () => {
            await Promise.resolve();
            seen.push(logContext.getStore());
            done();
            return undefined;
          },
        },
      ] as never);
      (socket as unknown as EventEmitter).emit('ping', { n: 1 });
    });
    await handled;
    expect(seen).toEqual([{ socketId: 'sock-1' }]);
    expect(logContext.getStore()).toBeUndefined();
  });
});
