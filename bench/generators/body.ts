// The message body every publisher sends: the send time (for end-to-end
// latency on the same machine clock), the step it belongs to, its index in
// that step, the publishing connection, and padding up to the wanted size of
// JSON.stringify(body).

/** A type alias, not an interface, so that it is assignable to Json (a message body). */
export type BenchBody = {
  /** Send time, ms since the epoch (sub-ms resolution): in an open loop, when the message was due, not when it went out (coordinated omission). */
  t: number;
  /** Step tag: receivers count only the current step's messages. */
  s: string;
  /** Index within the step, from 0. */
  n: number;
  /** The publishing connection (process and socket): order across publishers is not defined, within one it is. */
  w?: string;
  p: string;
};

export function makeBody(t: number, s: string, n: number, bytes: number, w?: string): BenchBody {
  const head = w === undefined ? { t, s, n } : { t, s, n, w };
  const base = JSON.stringify({ ...head, p: '' }).length;
  return { ...head, p: 'x'.repeat(Math.max(0, bytes - base)) };
}

export function isBenchBody(v: unknown): v is BenchBody {
  return typeof v === 'object' && v !== null && typeof (v as BenchBody).t === 'number' && typeof (v as BenchBody).s === 'string';
}

/** Bodies of "~200 bytes" (issue 8's hot-channel target). */
export const BODY_BYTES = 200;
