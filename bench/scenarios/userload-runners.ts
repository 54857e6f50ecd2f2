// The "users would ask next" scenarios (issue 15), registered in index.ts in one line.
import type { Ctx, ScenarioResult } from './context.js';
import { bigRoom } from './big-room.js';
import { bodies } from './bodies.js';
import { connectRate } from './connect-rate.js';
import { idle15k } from './idle-15k.js';
import { manyChannels } from './many-channels.js';
import { throughLb } from './through-lb.js';
import type { USERLOAD_SCENARIOS } from '../config.js';

export const USERLOAD_RUNNERS: Record<(typeof USERLOAD_SCENARIOS)[number], { title: string; run: (ctx: Ctx) => Promise<ScenarioResult> }> = {
  'many-channels': { title: 'Many channels: 1,000 × 10 subscribers, 2 replicas', run: manyChannels },
  'big-room': { title: 'One big room: 5,000 subscribers on one channel', run: bigRoom },
  'connect-rate': { title: 'Connection rate until handshake p99 > 1 s', run: connectRate },
  bodies: { title: 'Bodies of 4 KiB and 16 KiB', run: bodies },
  'through-lb': { title: 'End to end through HAProxy, 3 replicas', run: throughLb },
  'idle-15k': { title: 'Memory at 15,000 idle sockets', run: idle15k },
};
