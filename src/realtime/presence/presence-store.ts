import type { Redis } from 'ioredis';
import type { UserRef } from '../../events/dto.js';

// Presence leases in Redis. Per channel: a hash user → username (who is online
// cluster-wide) and per user a set of instance ids holding a socket there. Per
// instance: the set of "channel|user" entries it holds, and its heartbeat in a
// sorted set, so a survivor can find and reap a dead instance's entries.
// Lua keeps each step atomic, so exactly one caller sees "first in" / "last
// out", and the script itself publishes that change on the channel's topic
// (channel-bus.ts): every replica with subscribers of the channel receives
// its changes in the one order Redis applied them.

const NOW = `local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

// KEYS: channel hash, user's instance set, instance entries, the heartbeats.
// ARGV: user id, username, instance, entry, channel id. An instance holding a
// lease is registered at once (NX: a later heartbeat moves it), so it can be
// reaped even if it dies before its first heartbeat.
const JOIN = `${NOW}
redis.call('ZADD', KEYS[4], 'NX', now, ARGV[3])
redis.call('SADD', KEYS[3], ARGV[4])
local added = redis.call('SADD', KEYS[2], ARGV[3])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if added == 1 and redis.call('SCARD', KEYS[2]) == 1 then
  redis.call('PUBLISH', 'crosswire:ch:' .. ARGV[5], 'p|-|j|' .. ARGV[1] .. '|' .. ARGV[2])
  return 1
end
return 0`;

// KEYS: as JOIN. ARGV: user id, instance, entry, channel id.
const LEAVE = `
redis.call('SREM', KEYS[3], ARGV[3])
local removed = redis.call('SREM', KEYS[2], ARGV[2])
if removed == 1 and redis.call('SCARD', KEYS[2]) == 0 then
  local name = redis.call('HGET', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('PUBLISH', 'crosswire:ch:' .. ARGV[4], 'p|-|l|' .. ARGV[1] .. '|' .. (name or ''))
  return name or ''
end
return false`;

// Returns 1 when the instance was not registered: Redis restarted empty, or a
// survivor reaped it while it was stalled. Either way its leases must be re-asserted.
const HEARTBEAT = `${NOW}
return redis.call('ZADD', KEYS[1], now - tonumber(ARGV[2]), ARGV[1])`;

const DEAD = `${NOW}
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[1]))`;

// KEYS: the channel hash, then the instance set of every user in it (read first with HKEYS).
const FORGET = `
for i = 1, #KEYS do redis.call('DEL', KEYS[i]) end
return 1`;

const P = 'crosswire:presence';
const channelKey = (ch: string) => `${P}:ch:${ch}`;
const userKey = (ch: string, userId: string) => `${channelKey(ch)}:${userId}`;
const instanceKey = (inst: string) => `${P}:inst:${inst}`;
const INSTANCES = `${P}:instances`;
const entry = (ch: string, userId: string) => `${ch}|${userId}`;

export interface PresenceChange {
  kind: 'joined' | 'left';
  channelId: string;
  user: UserRef;
}

/** Parses the payload of a presence frame (`j|id|username` or `l|id|username`); null for anything else. */
export function parsePresenceFrame(channelId: string, payload: string): PresenceChange | null {
  const [k, id, username] = payload.split('|');
  if ((k !== 'j' && k !== 'l') || !id) return null;
  return { kind: k === 'j' ? 'joined' : 'left', channelId, user: { id, username: username ?? '' } };
}

export class PresenceStore {
  constructor(
    private readonly redis: Redis,
    readonly instanceId: string,
  ) {}

  get ready(): boolean {
    return this.redis.status === 'ready';
  }

  /** Returns true when this is the user's first instance in the channel cluster-wide. */
  async join(ch: string, user: UserRef, inst = this.instanceId): Promise<boolean> {
    const r = await this.redis.eval(JOIN, 4, channelKey(ch), userKey(ch, user.id), instanceKey(inst), INSTANCES, user.id, user.username, inst, entry(ch, user.id), ch);
    return r === 1;
  }

  /** Returns the user when this removed their last instance in the channel. */
  async leave(ch: string, userId: string, inst = this.instanceId): Promise<UserRef | null> {
    const name = await this.redis.eval(LEAVE, 3, channelKey(ch), userKey(ch, userId), instanceKey(inst), userId, inst, entry(ch, userId), ch);
    return typeof name === 'string' ? { id: userId, username: name } : null;
  }

  /** Makes this instance's leases exactly `held`, in one pipeline: re-adds what is missing, releases the rest. */
  async reassert(held: Array<{ channelId: string; user: UserRef }>): Promise<void> {
    const keep = new Set(held.map((h) => entry(h.channelId, h.user.id)));
    const stale = (await this.redis.smembers(instanceKey(this.instanceId))).filter((e) => !keep.has(e));
    const pipe = this.redis.pipeline();
    for (const { channelId, user } of held) {
      pipe.eval(JOIN, 4, channelKey(channelId), userKey(channelId, user.id), instanceKey(this.instanceId), INSTANCES, user.id, user.username, this.instanceId, entry(channelId, user.id), channelId);
    }
    for (const e of stale) {
      const [channelId, userId] = e.split('|');
      pipe.eval(LEAVE, 3, channelKey(channelId), userKey(channelId, userId), instanceKey(this.instanceId), userId, this.instanceId, e, channelId);
    }
    await pipe.exec();
  }

  async online(ch: string): Promise<UserRef[]> {
    const all = await this.redis.hgetall(channelKey(ch));
    return Object.entries(all).map(([id, username]) => ({ id, username }));
  }

  /** Who is online in each channel, in one pipeline. */
  async onlineIn(channelIds: string[]): Promise<Map<string, UserRef[]>> {
    const pipe = this.redis.pipeline();
    for (const ch of channelIds) pipe.hgetall(channelKey(ch));
    const results = (await pipe.exec()) ?? [];
    const out = new Map<string, UserRef[]>();
    channelIds.forEach((ch, i) => {
      const [err, all] = results[i] ?? [new Error('no reply'), null];
      if (err) throw err;
      out.set(
        ch,
        Object.entries(all as Record<string, string>).map(([id, username]) => ({ id, username })),
      );
    });
    return out;
  }

  /** A deleted channel: its leases go without any presence event. */
  async forget(ch: string): Promise<void> {
    const users = await this.redis.hkeys(channelKey(ch));
    await this.redis.eval(FORGET, users.length + 1, channelKey(ch), ...users.map((u) => userKey(ch, u)));
  }

  /** `expireInMs` shorter than the TTL marks the lease to lapse early (a goodbye). True when this instance was not registered. */
  async heartbeat(ttlMs: number, expireInMs = ttlMs): Promise<boolean> {
    return (await this.redis.eval(HEARTBEAT, 1, INSTANCES, this.instanceId, ttlMs - expireInMs)) === 1;
  }

  async deadInstances(ttlMs: number): Promise<string[]> {
    const ids = (await this.redis.eval(DEAD, 1, INSTANCES, ttlMs)) as string[];
    return ids.filter((id) => id !== this.instanceId);
  }

  /**
   * Removes a dead instance's entries in one pipeline; returns the users that
   * thereby left (each leave is also published). Only the replica that wins
   * the lock reaps, so each leave happens once.
   */
  async reap(dead: string): Promise<Array<{ channelId: string; user: UserRef }>> {
    return (await this.reapIfWon(dead))?.left ?? [];
  }

  /** As reap(); null when another replica holds the lock (it reaps). */
  async reapIfWon(dead: string): Promise<{ left: Array<{ channelId: string; user: UserRef }> } | null> {
    const won = await this.redis.set(`${P}:reap:${dead}`, this.instanceId, 'PX', 30_000, 'NX');
    if (won !== 'OK') return null;
    const entries = (await this.redis.smembers(instanceKey(dead))).map((e) => e.split('|'));
    const pipe = this.redis.pipeline();
    for (const [channelId, userId] of entries) {
      pipe.eval(LEAVE, 3, channelKey(channelId), userKey(channelId, userId), instanceKey(dead), userId, dead, entry(channelId, userId), channelId);
    }
    pipe.del(instanceKey(dead));
    pipe.zrem(INSTANCES, dead);
    const results = (await pipe.exec()) ?? [];
    const left: Array<{ channelId: string; user: UserRef }> = [];
    entries.forEach(([channelId, userId], i) => {
      const [err, name] = results[i] ?? [];
      if (!err && typeof name === 'string') left.push({ channelId, user: { id: userId, username: name } });
    });
    return { left };
  }
}
