import { describe, expect, it } from '@jest/globals';
import type { ScenarioResult } from '../scenarios/context.js';
import { behindText, capacityModel } from './markdown.js';

const sc = (id: string, summary: Record<string, unknown>): ScenarioResult => ({ id, title: id, durationS: 1, steps: [], summary, notes: [] });

describe('report text that must follow the run', () => {
  it('cites a fan-out profile only when the run has one', () => {
    const fanout = sc('fanout', {});
    expect(behindText(fanout, []).join('\n')).toContain('This run has no CPU profile of the fan-out load');
    expect(behindText(fanout, []).join('\n')).not.toContain('Profiles section');
    expect(behindText(fanout, [{ target: 'fanout-1', load: 'fanout', seconds: 10, samples: 1, topFunctions: [], topPackages: [] }]).join('\n')).toContain('Profiles section');
  });

  it('models the bus by where the subscribers are when a replica without them receives under a tenth, never "every replica receives every message"', () => {
    const text = capacityModel({ scaling: sc('scaling', { '3': { replicas: 3, coldChannelRedisBytesInPerMessage: { hub1: 595, hub2: 7, hub3: 7 } } }) });
    expect(text).toContain('does not receive its messages');
    expect(text).not.toMatch(/every replica receives/);
  });

  it('says every replica receives the channel when the bytes show it', () =>
    expect(capacityModel({ scaling: sc('scaling', { '2': { replicas: 2, coldChannelRedisBytesInPerMessage: { hub1: 557, hub2: 553 } } }) })).toContain('every replica receives the channel'));

  it('does not model the bus without the figures', () => expect(capacityModel({})).toContain('not measured in this run'));
});
