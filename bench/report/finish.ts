// After the scenarios: targets and claims verdicts, and on a full run the report.
import type { Results } from './results.js';
import type { Topology } from '../topology.js';

export async function finishReport(_results: Results, _o: { root: string; write: boolean; topo: Topology }): Promise<void> {}
