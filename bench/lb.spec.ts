import { countDownEvents } from './lb.js';

// Lines as HAProxy 2.6 wrote them in a bench run (haproxy-hub.log), the hubs' /readyz answering past the 2 s check timeout.
const LOG = [
  '[WARNING]  (23982) : Server ready/hub1 is DOWN, reason: Layer7 timeout, check duration: 2008ms. 2 active and 0 backup servers left. 117 sessions active, 0 requeued, 0 remaining in queue.',
  'Server ready/hub1 is DOWN, reason: Layer7 timeout, check duration: 2008ms. 2 active and 0 backup servers left. 117 sessions active, 0 requeued, 0 remaining in queue.',
  '[WARNING]  (23982) : Server alive/hub3 is DOWN, reason: Layer7 timeout, check duration: 2001ms. 2 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.',
  'Server alive/hub3 is DOWN, reason: Layer7 timeout, check duration: 2001ms. 2 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.',
  'Server ready/hub2 is DOWN, reason: Layer7 timeout, check duration: 2001ms. 0 active and 0 backup servers left. 140 sessions active, 0 requeued, 0 remaining in queue.',
  'Server ready/hub1 is UP, reason: Layer7 check passed, code: 200, check duration: 3ms. 1 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.',
].join('\n');

describe('HAProxy taking replicas out', () => {
  it('counts each DOWN of the ready backend once (its lines come twice), not the alive backend’s, not UPs', () => {
    expect(countDownEvents(LOG)).toBe(2);
    expect(countDownEvents('')).toBe(0);
  });
});
