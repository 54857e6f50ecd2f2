// A set kept as its single member until it has two: a Set weighs a few hundred
// bytes, and most users hold one socket in a channel. Members must not be Sets.

export type OneOrMany<T> = T | Set<T>;

export function add<T>(m: OneOrMany<T> | undefined, v: T): OneOrMany<T> {
  if (m === undefined || m === v) return v;
  if (m instanceof Set) return m.add(v);
  return new Set([m, v]);
}

/** Without `v`; undefined once empty. */
export function remove<T>(m: OneOrMany<T> | undefined, v: T): OneOrMany<T> | undefined {
  if (!(m instanceof Set)) return m === v ? undefined : m;
  m.delete(v);
  if (m.size > 1) return m;
  return m.size === 1 ? m.values().next().value : undefined;
}

export function has<T>(m: OneOrMany<T> | undefined, v: T): boolean {
  return m instanceof Set ? m.has(v) : m !== undefined && m === v;
}

export function members<T>(m: OneOrMany<T> | undefined): T[] {
  if (m === undefined) return [];
  return m instanceof Set ? [...m] : [m];
}
