import type { Invalidations } from './invalidations.js';

interface Group<V> {
  entries: Map<string, { value: V; expires: number }>;
  /** When its newest entry expires: past it, the whole group is dead weight. */
  expires: number;
}

/**
 * A read-through cache of what rarely changes (a user, a channel's access
 * rules), kept at most `ttlMs`, dropped on every replica when it changes, and
 * bypassed while invalidations cannot be trusted (Invalidations.reliable).
 * Entries belong to groups (a channel and its memberships): a change drops
 * the group. At most `maxGroups` groups (the oldest go first) of at most
 * `maxPerGroup` entries; a group is forgotten once all its entries expired
 * (a user seen once at a socket's handshake is not kept for hours).
 */
export class CoherentCache<V> {
  private readonly groups = new Map<string, Group<V>>();
  /** Bumped by every invalidation: a load that raced one is not kept. */
  private generation = 0;
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly bus: Invalidations,
    private readonly kind: string,
    private readonly ttlMs = 1_000,
    private readonly maxGroups = 10_000,
    private readonly maxPerGroup = 10_000,
  ) {
    bus.on(
      kind,
      (group) => this.drop(group),
      () => this.clear(),
    );
    this.sweeper = setInterval(() => this.sweep(Date.now()), Math.max(ttlMs, 1_000)).unref();
  }

  async get(group: string, key: string, load: () => Promise<V>): Promise<V> {
    if (!this.bus.reliable) return load();
    const hit = this.groups.get(group)?.entries.get(key);
    const now = Date.now();
    if (hit && hit.expires > now) return hit.value;
    const generation = this.generation;
    const value = await load();
    if (generation === this.generation && this.bus.reliable) this.put(group, key, value, now + this.ttlMs);
    return value;
  }

  /** Drops the group here and on every other replica; await it before answering, so no replica serves the old value after the answer. */
  invalidate(group: string): Promise<void> {
    return this.bus.publish(this.kind, group);
  }

  private put(group: string, key: string, value: V, expires: number) {
    let g = this.groups.get(group);
    // Re-inserted at every write, so the map's order is the order of last writes and the sweep stops at the first live group.
    if (g) this.groups.delete(group);
    else {
      if (this.groups.size >= this.maxGroups) this.groups.delete(this.groups.keys().next().value!);
      g = { entries: new Map(), expires };
    }
    if (g.entries.size >= this.maxPerGroup) g.entries.clear();
    g.entries.set(key, { value, expires });
    g.expires = expires;
    this.groups.set(group, g);
  }

  private sweep(now: number) {
    for (const [group, g] of this.groups) {
      if (g.expires > now) return;
      this.groups.delete(group);
    }
  }

  /** Groups held now (expired ones included until the next sweep). */
  get size(): number {
    return this.groups.size;
  }

  stop() {
    clearInterval(this.sweeper);
  }

  private drop(group: string) {
    this.generation++;
    this.groups.delete(group);
  }

  private clear() {
    this.generation++;
    this.groups.clear();
  }
}
