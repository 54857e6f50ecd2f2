// The scenarios, in the order a run executes them (the storm kills a replica: last).
import type { ScenarioId } from '../config.js';
import { claims } from './claims.js';
import type { Ctx, ScenarioResult } from './context.js';
import { fanout } from './fanout.js';
import { idle } from './idle.js';
import { loginFlood } from './login-flood.js';
import { overload } from './overload.js';
import { polling } from './polling.js';
import { publish } from './publish.js';
import { read } from './read.js';
import { reconcile } from './reconcile.js';
import { scaling } from './scaling.js';
import { storm } from './storm.js';
import { variants } from './variants.js';
import { USERLOAD_RUNNERS } from './userload-runners.js';

export const SCENARIO_RUNNERS: Record<ScenarioId, { title: string; run: (ctx: Ctx) => Promise<ScenarioResult> }> = {
  publish: { title: '5. Publish path', run: publish },
  fanout: { title: '2. Fan-out against the baseline', run: fanout },
  scaling: { title: '3. Scaling curve', run: scaling },
  polling: { title: '1. REST polling against WebSocket push', run: polling },
  read: { title: '7. REST read path', run: read },
  idle: { title: '4. Idle cost per connection', run: idle },
  reconcile: { title: 'Reconciliation tick at scale', run: reconcile },
  claims: { title: 'Claims 3 and 5: duplex, connections per message', run: claims },
  overload: { title: 'Overload: 2× the sustainable publish rate', run: overload },
  'login-flood': { title: 'Login flood: refused sign-ins against delivery', run: loginFlood },
  storm: { title: '6. Reconnect storm', run: storm },
  variants: { title: 'socket.io’s scale options beside the hub', run: variants },
  ...USERLOAD_RUNNERS,
};
