import type { ClusterReport, ReplicaReport } from './cluster-api.js';
import { byId, el, show } from './dom.js';

/** Replicas that stopped reporting, newest first, at most this many. */
const GONE_KEPT = 8;
/** A change in a replica's socket count stays marked this long, so a person looking up still sees where they went. */
const DELTA_SHOWN_MS = 5_000;

/**
 * The replica table, updated in place each poll so a person can watch the
 * figures move: a row per replica reporting, a meter of its share of the
 * sockets, a +n/−n when its socket count changed, and a list of the replicas
 * that stopped reporting (a killed one leaves within ~5 s).
 */
export class ClusterTable {
  private readonly rows = byId<HTMLTableSectionElement>('replica-rows');
  private readonly gone = byId<HTMLUListElement>('gone-list');
  private readonly last = new Map<string, ReplicaReport>();
  private readonly deltas = new Map<string, { delta: number; until: number }>();

  render(report: ClusterReport): void {
    const total = report.replicas.reduce((n, r) => n + r.sockets, 0);
    const reporting = new Set(report.replicas.map((r) => r.id));
    for (const [id, before] of this.last) if (!reporting.has(id)) this.markGone(before);
    const sorted = [...report.replicas].sort((a, b) => a.id.localeCompare(b.id, undefined, { numeric: true }));
    this.rows.replaceChildren(...sorted.map((r) => this.row(r, total, this.last.get(r.id))));
    this.last.clear();
    for (const r of report.replicas) this.last.set(r.id, r);
    byId('totals').textContent = `${total} open sockets on ${report.replicas.length} replica${report.replicas.length === 1 ? '' : 's'}.`;
  }

  private row(r: ReplicaReport, total: number, before: ReplicaReport | undefined) {
    const delta = this.delta(r, before);
    return el(
      'tr',
      { 'data-testid': 'replica', 'data-replica-id': r.id, 'data-status': r.status },
      el('th', { scope: 'row', class: 'mono' }, r.id),
      el('td', {}, el('span', { class: 'status', 'data-status': r.status }, r.status)),
      el(
        'td',
        {},
        el(
          'div',
          { class: 'sockets' },
          el('span', { 'data-testid': 'replica-sockets', class: 'num' }, String(r.sockets)),
          el('meter', { min: 0, max: Math.max(total, 1), value: r.sockets, 'aria-label': 'share of the open sockets' }),
          delta !== 0 && el('span', { class: delta > 0 ? 'delta up' : 'delta down' }, delta > 0 ? `+${delta}` : `−${-delta}`),
        ),
      ),
      el('td', { class: 'num' }, r.deliveriesPerS.toFixed(r.deliveriesPerS < 10 ? 1 : 0)),
      el('td', { class: 'num' }, r.publishP99Ms === null ? '—' : `${r.publishP99Ms.toFixed(r.publishP99Ms < 10 ? 1 : 0)} ms`),
      el('td', { class: 'num', title: r.lastSeen }, `${(r.ageMs / 1000).toFixed(1)} s ago`),
    );
  }

  /** The change of the socket count over the last few seconds (0: none). */
  private delta(r: ReplicaReport, before: ReplicaReport | undefined): number {
    const now = Date.now();
    const shown = this.deltas.get(r.id);
    const recent = shown && shown.until > now ? shown.delta : 0;
    const change = before ? r.sockets - before.sockets : 0;
    if (change !== 0) this.deltas.set(r.id, { delta: recent + change, until: now + DELTA_SHOWN_MS });
    else if (!recent) this.deltas.delete(r.id);
    return recent + change;
  }

  private markGone(r: ReplicaReport) {
    this.deltas.delete(r.id);
    const at = new Date(r.lastSeen).toLocaleTimeString();
    this.gone.prepend(
      el('li', { 'data-testid': 'gone-replica', 'data-replica-id': r.id }, el('b', { class: 'mono' }, r.id), ` last reported at ${at}, with ${r.sockets} open socket${r.sockets === 1 ? '' : 's'}`),
    );
    while (this.gone.childElementCount > GONE_KEPT) this.gone.lastElementChild!.remove();
    show(byId('gone-box'), true);
  }
}
