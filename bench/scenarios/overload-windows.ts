// The overload scenario's arithmetic: the generators' phases and windows
// summed, when the hub counts as recovered, and the loss check against the
// database (by clientMsgId: an acknowledged publish stored exactly once,
// under the seq it was acknowledged with).
import pg from 'pg';
import type { Door, FloodStats, Outcome } from '../generators/flood.js';
import { type Histogram, merge, type LatencySummary, summarize } from '../histogram.js';

export interface PhaseTotals {
  name: string;
  rate: number;
  sent: number;
  skipped: number;
  byDoor: Record<Door, Record<Outcome, number>>;
  raw: Record<string, number>;
  ok: LatencySummary;
  /** p99 of ok answers whatever the sample count: a ramp step is short. */
  okP99AnyMs: number | null;
  /** p50 / p99 of ok answers by door (any sample count). */
  okByDoor: Record<Door, { p50Ms: number | null; p99Ms: number | null }>;
  refused: LatencySummary;
  firstOther: string | null;
}

export interface WindowRow {
  /** Start of the window, ms from the start of the run. */
  tMs: number;
  phase: string;
  sent: number;
  skipped: number;
  ok: number;
  limited: number;
  unavailable: number;
  other: number;
  /** Share of answers that were not ok. */
  errorRate: number;
  p50Ms: number | null;
  /** p99 of ok answers, whatever the sample count (a window is short). */
  p99Ms: number | null;
}

const add = (into: Record<string, number>, from: Record<string, number>) => {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
};

const pct = (h: Histogram, p: number) => (h.totalCount ? Math.round(h.getValueAtPercentile(p) / 10) / 100 : null);
const door = (h: Histogram) => ({ p50Ms: pct(h, 50), p99Ms: pct(h, 99) });

export function phaseTotals(runs: FloodStats[]): PhaseTotals[] {
  return runs[0].phases.map((p, i) => {
    const all = runs.map((r) => r.phases[i]);
    const byDoor = { rest: { ok: 0, limited: 0, unavailable: 0, other: 0 }, socket: { ok: 0, limited: 0, unavailable: 0, other: 0 } };
    const raw: Record<string, number> = {};
    const okHist = merge(all.map((x) => x.okHist));
    for (const x of all) {
      add(byDoor.rest, x.byDoor.rest);
      add(byDoor.socket, x.byDoor.socket);
      add(raw, x.raw);
    }
    return {
      name: p.name,
      rate: all.reduce((s, x) => s + x.rate, 0),
      sent: all.reduce((s, x) => s + x.sent, 0),
      skipped: all.reduce((s, x) => s + x.skipped, 0),
      byDoor,
      raw,
      ok: summarize(okHist),
      okP99AnyMs: pct(okHist, 99),
      okByDoor: {
        rest: door(merge(all.map((x) => x.okHistByDoor.rest))),
        socket: door(merge(all.map((x) => x.okHistByDoor.socket))),
      },
      refused: summarize(merge(all.map((x) => x.refusedHist))),
      firstOther: all.find((x) => x.firstOther)?.firstOther ?? null,
    };
  });
}

export const answered = (c: Record<Outcome, number>) => c.ok + c.limited + c.unavailable + c.other;
export const both = (p: PhaseTotals): Record<Outcome, number> => ({
  ok: p.byDoor.rest.ok + p.byDoor.socket.ok,
  limited: p.byDoor.rest.limited + p.byDoor.socket.limited,
  unavailable: p.byDoor.rest.unavailable + p.byDoor.socket.unavailable,
  other: p.byDoor.rest.other + p.byDoor.socket.other,
});

/** `phaseEnds` are the phases' end offsets (ms): a window belongs to the phase it starts in. */
export function windowRows(runs: FloodStats[], phases: Array<{ name: string; endMs: number }>): WindowRow[] {
  const windowMs = runs[0].windowMs;
  const count = Math.max(...runs.map((r) => r.windows.length));
  const rows: WindowRow[] = [];
  for (let i = 0; i < count; i++) {
    const ws = runs.map((r) => r.windows[i]).filter((w) => !!w);
    const c = { ok: 0, limited: 0, unavailable: 0, other: 0 };
    for (const w of ws) add(c, w.counts);
    const h = merge(ws.map((w) => w.okHist));
    const lat = summarize(h);
    const n = answered(c);
    const tMs = i * windowMs;
    rows.push({
      tMs,
      phase: phases.find((p) => tMs < p.endMs)?.name ?? phases[phases.length - 1].name,
      sent: ws.reduce((s, w) => s + w.sent, 0),
      skipped: ws.reduce((s, w) => s + w.skipped, 0),
      ...c,
      errorRate: n ? Math.round(((n - c.ok) / n) * 1000) / 1000 : 0,
      p50Ms: lat.p50Ms,
      p99Ms: pct(h, 99),
    });
  }
  return rows;
}

/** How close to the pre-overload figures a window must come to count as recovered. */
export const RECOVERED = { p99Factor: 2, p99SlackMs: 50, errorRateSlack: 0.01 };

/** The first window of the low phase whose p99 and error rate are back near the pre-overload ones; ms from the drop to its end. */
export function recovery(
  rows: WindowRow[],
  pre: { p99Ms: number | null; errorRate: number },
  low: string,
  windowMs: number,
  latencyOnly = false,
): { recoveryMs: number | null; window: WindowRow | null } {
  const lowRows = rows.filter((r) => r.phase === low && r.sent > 0);
  const p99Limit = Math.max((pre.p99Ms ?? 0) * RECOVERED.p99Factor, (pre.p99Ms ?? 0) + RECOVERED.p99SlackMs);
  const i = lowRows.findIndex((r) => r.p99Ms !== null && r.p99Ms <= p99Limit && (latencyOnly || r.errorRate <= pre.errorRate + RECOVERED.errorRateSlack));
  return i < 0 ? { recoveryMs: null, window: null } : { recoveryMs: (i + 1) * windowMs, window: lowRows[i] };
}

export interface LossCheck {
  acked: number;
  missing: number;
  duplicated: number;
  /** Stored under another seq or channel than the ack said. */
  seqMismatch: number;
  /** Stored though the publisher never got an ok (a timeout, or refused after the commit): not a loss. */
  storedWithoutOk: number;
  /** Every flooded channel's history is 1..lastSeq with no gap. */
  gapless: boolean;
  firstMissing: string | null;
}

export async function lossCheck(databaseUrl: string, prefix: string, channelIds: string[], runs: FloodStats[]): Promise<LossCheck> {
  const db = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  db.on('error', () => undefined);
  try {
    const { rows } = await db.query<{ client_msg_id: string; channel_id: string; seq: string }>(
      `SELECT client_msg_id, channel_id, seq FROM messages WHERE channel_id = ANY($1::uuid[]) AND client_msg_id LIKE $2`,
      [channelIds, `${prefix}%`],
    );
    const stored = new Map<string, Array<{ channel: string; seq: number }>>();
    for (const r of rows) (stored.get(r.client_msg_id) ?? stored.set(r.client_msg_id, []).get(r.client_msg_id)!).push({ channel: r.channel_id, seq: Number(r.seq) });
    const out: LossCheck = { acked: 0, missing: 0, duplicated: 0, seqMismatch: 0, storedWithoutOk: 0, gapless: true, firstMissing: null };
    const ok = new Set<string>();
    for (const run of runs) {
      run.acked.n.forEach((n, i) => {
        const id = `${run.tag}-${run.pid}-${n}`;
        ok.add(id);
        out.acked++;
        const at = stored.get(id);
        if (!at) {
          out.missing++;
          out.firstMissing ??= id;
        } else if (at.length > 1) out.duplicated++;
        else if (at[0].seq !== run.acked.seq[i] || at[0].channel !== channelIds[run.acked.channel[i]]) out.seqMismatch++;
      });
    }
    for (const id of stored.keys()) if (!ok.has(id)) out.storedWithoutOk++;
    const gaps = await db.query<{ n: string }>(
      `SELECT count(*) AS n FROM channels c WHERE c.id = ANY($1::uuid[])
         AND ((SELECT count(*) FROM messages m WHERE m.channel_id = c.id) <> c.last_seq
          OR EXISTS (SELECT 1 FROM messages m WHERE m.channel_id = c.id AND (m.seq < 1 OR m.seq > c.last_seq)))`,
      [channelIds],
    );
    out.gapless = Number(gaps.rows[0].n) === 0;
    return out;
  } finally {
    await db.end();
  }
}
