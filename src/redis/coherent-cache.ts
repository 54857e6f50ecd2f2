import type { Invalidations } from './invalidations.js';

interface Group<V> {
  entries: Map<string, { value: V; expires: number }>;
}

/**
 * A read-through cache of what rarely changes (a user, a channel's access
 * rules), kept at most `ttlMs`, dropped on every replica when it changes, and
 * bypassed while invalidations cannot be trusted (Invalidations.reliable).
 * Entries belong to groups (a channel and its memberships): a change drops
 * the group. At most `maxGroups` groups (the oldest go first) of at most
 * `maxPerGroup` entries.
 */
export class CoherentCache<V> {
  private readonly groups = new Map<string, Group<V>>();
  /** Bumped by every invalidation: a load that raced one is not kept. */
  private generation = 0;

  constructor(
    private readonly bus: Invalidations,
    private readonly kind: string,
    private readonly ttlMs = 1_000,
    private readonly maxGroups = 10_000,
    private readonly maxPerGroup = 10_000,
  ) {
    bus.on(kind, (group) => this.drop(group), () => this.clear());
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
    if (!g) {
      if (this.groups.size >= this.maxGroups) this.groups.delete(this.groups.keys().next().value!);
      this.groups.set(group, (g = { entries: new Map() }));
    }
    if (g.entries.size >= this.maxPerGroup) g.entries.clear();
    g.entries.set(key, { value, expires });
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
