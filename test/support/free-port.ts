// One helper for the test tiers, the scripts and the bench (scripts/free-port.ts).
export { freePort } from '../../scripts/free-port.js';
