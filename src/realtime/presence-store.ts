import type { Redis } from 'ioredis';
import type { UserRef } from '../events/dto.js';

// Presence leases in Redis. Per channel: a hash user → username (who is online
// cluster-wide) and per user a set of instance ids holding a socket there. Per
// instance: the set of "channel|user" entries it holds, and its heartbeat in a
// sorted set, so a survivor can find and reap a dead instance's entries.
// Lua keeps each step atomic: exactly one replica sees "first in" / "last out".

const NOW = `local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

const JOIN = `
redis.call('SADD', KEYS[3], ARGV[4])
local added = redis.call('SADD', KEYS[2], ARGV[3])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if added == 1 and redis.call('SCARD', KEYS[2]) == 1 then return 1 end
return 0`;

const LEAVE = `
redis.call('SREM', KEYS[3], ARGV[3])
local removed = redis.call('SREM', KEYS[2], ARGV[2])
if removed == 1 and redis.call('SCARD', KEYS[2]) == 0 then
  local name = redis.call('HGET', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[1], ARGV[1])
  return name
end
return false`;

const HEARTBEAT = `${NOW}
redis.call('ZADD', KEYS[1], now - tonumber(ARGV[2]), ARGV[1])
return now`;

const DEAD = `${NOW}
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[1]))`;

const FORGET = `
for _, user in ipairs(redis.call('HKEYS', KEYS[1])) do redis.call('DEL', KEYS[1] .. ':' .. user) end
redis.call('DEL', KEYS[1])
return 1`;

const P = 'crosswire:presence';
const channelKey = (ch: string) => `${P}:ch:${ch}`;
const userKey = (ch: string, userId: string) => `${channelKey(ch)}:${userId}`;
const instanceKey = (inst: string) => `${P}:inst:${inst}`;
const INSTANCES = `${P}:instances`;
const entry = (ch: string, userId: string) => `${ch}|${userId}`;

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
    const r = await this.redis.eval(JOIN, 3, channelKey(ch), userKey(ch, user.id), instanceKey(inst), user.id, user.username, inst, entry(ch, user.id));
    return r === 1;
  }

  /** Returns the user when this removed their last instance in the channel. */
  async leave(ch: string, userId: string, inst = this.instanceId): Promise<UserRef | null> {
    const name = await this.redis.eval(LEAVE, 3, channelKey(ch), userKey(ch, userId), instanceKey(inst), userId, inst, entry(ch, userId));
    return typeof name === 'string' ? { id: userId, username: name } : null;
  }

  /** The channel|user entries this instance holds in Redis. */
  async entries(): Promise<Array<{ channelId: string; userId: string }>> {
    return (await this.redis.smembers(instanceKey(this.instanceId))).map((e) => {
      const [channelId, userId] = e.split('|');
      return { channelId, userId };
    });
  }

  async online(ch: string): Promise<UserRef[]> {
    const all = await this.redis.hgetall(channelKey(ch));
    return Object.entries(all).map(([id, username]) => ({ id, username }));
  }

  async forget(ch: string): Promise<void> {
    await this.redis.eval(FORGET, 1, channelKey(ch));
  }

  /** `expireInMs` shorter than the TTL marks the lease to lapse early (a goodbye). */
  async heartbeat(ttlMs: number, expireInMs = ttlMs): Promise<void> {
    await this.redis.eval(HEARTBEAT, 1, INSTANCES, this.instanceId, ttlMs - expireInMs);
  }

  async deadInstances(ttlMs: number): Promise<string[]> {
    const ids = (await this.redis.eval(DEAD, 1, INSTANCES, ttlMs)) as string[];
    return ids.filter((id) => id !== this.instanceId);
  }

  /**
   * Removes a dead instance's entries; returns the users that thereby left.
   * Only the replica that wins the lock reaps, so each leave is announced once.
   */
  async reap(dead: string): Promise<Array<{ channelId: string; user: UserRef }>> {
    const won = await this.redis.set(`${P}:reap:${dead}`, this.instanceId, 'PX', 30_000, 'NX');
    if (won !== 'OK') return [];
    const left: Array<{ channelId: string; user: UserRef }> = [];
    for (const e of await this.redis.smembers(instanceKey(dead))) {
      const [channelId, userId] = e.split('|');
      const user = await this.leave(channelId, userId, dead);
      if (user) left.push({ channelId, user });
    }
    await this.redis.del(instanceKey(dead));
    await this.redis.zrem(INSTANCES, dead);
    return left;
  }
}
