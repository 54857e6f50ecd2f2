// The scenarios, in the order a run executes them (the storm kills a replica: last).
import type { ScenarioId } from '../config.js';
import type { Ctx, ScenarioResult } from './context.js';
import { fanout } from './fanout.js';
import { idle } from './idle.js';
import { publish } from './publish.js';

export const SCENARIO_RUNNERS: Partial<Record<ScenarioId, { title: string; run: (ctx: Ctx) => Promise<ScenarioResult> }>> = {
  publish: { title: '5. Publish path', run: publish },
  idle: { title: '4. Idle cost per connection', run: idle },
  fanout: { title: '2. Fan-out against the baseline', run: fanout },
};
