/**
 * The Redis engine of the cluster port (`serve --redis`): presence in one hash per instance,
 * the bus on pub/sub channels, the timer lease in one key, shared token buckets in hashes.
 *
 * Keys, all under `{group}:` (`shiftctl:` by default):
 * - `instances`: sorted set, member = instance id, score = the ms (Redis clock) at which the
 *   instance counts as dead unless it refreshes first;
 * - `presence:{id}`: hash emp_id -> devices connected to that instance, expiring with it;
 * - `bus`: the pub/sub channel every instance hears (kicks, faults, deadlines); `bus:{id}`: one
 *   instance's own, for pushes to the devices it holds; `lease`: the timer leader's id; `faults`: fault settings (JSON);
 * - `rl:{perSecond}:{burst}:{key}`: one token bucket (fields `tokens`, `at`).
 *
 * Every script reads the time with Redis's TIME, so that the instances' clocks never matter,
 * and finds the other instances' hashes through `instances`: they touch keys they were not given
 * as KEYS, which standalone Redis (and Sentinel) allows but Redis Cluster does not. One Redis
 * node is the design; shard by group if one node ever binds.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Redis, type RedisOptions } from 'ioredis';
import { ShiftctlError } from '../errors.js';
import { redactUrl } from '../redact.js';
import type { RateLimit, RateLimitResult } from '../server/rate-limit.js';
import { streak } from '../streak.js';
import type {
  Cluster,
  ClusterHandlers,
  ClusterMessage,
  SharedFaults,
  SharedRateLimiter,
} from './types.js';

export interface RedisClusterOptions {
  /** `redis://[user:password@]host:port[/db]` (or `rediss://` for TLS). */
  url: string;
  /** The key prefix's first part: instances of one group share a cluster. `shiftctl` by default. */
  group?: string;
  /** How often this instance refreshes its presence, in ms (2000 by default). */
  heartbeatMs?: number;
  /** How long an instance that stopped refreshing still counts as alive, in ms (6000). */
  instanceTtlMs?: number;
  /** How long the timer lease outlives its last renewal, in ms (5000). */
  leaseTtlMs?: number;
  /** How often the server renews the lease (calls `lead()`), in ms (1000). */
  leaseRenewMs?: number;
  /** Trouble in the background, before `start` is given handlers (and when they have no `warn`). */
  warn?: (message: string, fields?: Record<string, unknown>) => void;
}

export interface RedisCluster extends Cluster {
  readonly engine: 'redis';
  /** Redis always keeps the buckets (one hash each), so every instance shares the limits. */
  readonly rateLimiter: (limit: RateLimit) => SharedRateLimiter;
  /** Drops both connections without a goodbye and stops refreshing, as `kill -9` would (tests). */
  crash(): void;
}

/** How long `createRedisCluster` waits for a TCP connection before giving up. */
const CONNECT_TIMEOUT_MS = 5000;
/** What ioredis says when the server it reached hangs up: not Redis, most likely. */
const HUNG_UP = /^Connection is closed\.$|ECONNRESET/;
/** How long a lost link queues commands before they fail at once (see the 'close' handler). */
const OFFLINE_QUEUE_MS = 1000;
/** How long `ping` (for `/readyz`) and `close`'s goodbye wait for Redis. */
const PING_TIMEOUT_MS = 2000;
/** HMGET takes this many fields at a time (Lua's `unpack` is limited to a few thousand values). */
const CHUNK = 1000;

/**
 * Lua shared by the scripts. `live_hashes` lists the presence hashes to sum: this instance's
 * always (its own devices count even if a stall let its entry lapse; the heartbeat puts it back),
 * and every other instance whose expiry is still ahead. Dead ones are skipped here and deleted
 * by the next heartbeat of any instance.
 */
const LUA_COMMON = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function live_hashes(prefix, self)
  local ids = redis.call('ZRANGEBYSCORE', prefix .. 'instances', now_ms(), '+inf')
  local keys = { prefix .. 'presence:' .. self }
  for _, id in ipairs(ids) do
    if id ~= self then keys[#keys + 1] = prefix .. 'presence:' .. id end
  end
  return keys
end
-- Devices of the employees in ids (a list of numbers), summed over the hashes, in order, and
-- which hashes hold any of them (hit[i] for hashes[i]). A small hash is read whole (HGETALL)
-- rather than probed for every id; a large one is probed in chunks (HMGET).
local function sum_devices(hashes, ids)
  local n = #ids
  local counts, hit = {}, {}
  for i = 1, n do counts[i] = 0 end
  for k, h in ipairs(hashes) do
    local size = redis.call('HLEN', h)
    if size > 0 and size * 4 < n then
      local flat = redis.call('HGETALL', h)
      local held = {}
      for i = 1, #flat, 2 do held[tonumber(flat[i])] = tonumber(flat[i + 1]) end
      for i = 1, n do
        local v = held[ids[i]]
        if v then counts[i] = counts[i] + v; hit[k] = true end
      end
    elseif size > 0 then
      for s = 1, n, ${CHUNK} do
        local vals = redis.call('HMGET', h, unpack(ids, s, math.min(s + ${CHUNK - 1}, n)))
        for j = 1, #vals do
          local v = vals[j]
          if v then counts[s + j - 1] = counts[s + j - 1] + tonumber(v); hit[k] = true end
        end
      end
    end
  end
  return counts, hit
end
`;

/** Every script takes ARGV[1] = the key prefix, ARGV[2] = this instance's id. */
const SCRIPTS = {
  /**
   * Refreshes this instance (ARGV[3] = ttl ms) and deletes the traces of dead ones. Returns 1 if
   * it was alive until now, 0 if its entry had lapsed or was never there (then its hash may be
   * gone: the caller writes it back from what it knows).
   */
  shiftctlHeartbeat: `${LUA_COMMON}
local prefix, self, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3])
local now = now_ms()
local set = prefix .. 'instances'
local score = redis.call('ZSCORE', set, self)
local alive = score and tonumber(score) >= now
redis.call('ZADD', set, now + ttl, self)
redis.call('PEXPIRE', set, ttl)
redis.call('PEXPIRE', prefix .. 'presence:' .. self, ttl)
local dead = redis.call('ZRANGEBYSCORE', set, '-inf', '(' .. now)
for _, id in ipairs(dead) do redis.call('DEL', prefix .. 'presence:' .. id) end
if #dead > 0 then redis.call('ZREMRANGEBYSCORE', set, '-inf', '(' .. now) end
return alive and 1 or 0`,

  /** Replaces this instance's hash with ARGV[4..] (emp, devices pairs), ARGV[3] = ttl ms. */
  shiftctlRestore: `
local prefix, self, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3])
local key = prefix .. 'presence:' .. self
redis.call('DEL', key)
for s = 4, #ARGV, ${CHUNK} do
  redis.call('HSET', key, unpack(ARGV, s, math.min(s + ${CHUNK - 1}, #ARGV)))
end
redis.call('PEXPIRE', key, ttl)
return 1`,

  /** ARGV[3] = emp, ARGV[4] = cap, ARGV[5] = ttl: the count after joining, or nil when full. */
  shiftctlJoin: `${LUA_COMMON}
local prefix, self, emp, cap, ttl = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local sum = 0
for _, h in ipairs(live_hashes(prefix, self)) do
  sum = sum + (tonumber(redis.call('HGET', h, emp)) or 0)
end
if sum >= cap then return false end
local own = prefix .. 'presence:' .. self
redis.call('HINCRBY', own, emp, 1)
redis.call('PEXPIRE', own, ttl)
return sum + 1`,

  /** ARGV[3] = emp: one device fewer here; returns the cluster-wide count left. */
  shiftctlLeave: `${LUA_COMMON}
local prefix, self, emp = ARGV[1], ARGV[2], ARGV[3]
local own = prefix .. 'presence:' .. self
if redis.call('HINCRBY', own, emp, -1) <= 0 then redis.call('HDEL', own, emp) end
local sum = 0
for _, h in ipairs(live_hashes(prefix, self)) do
  sum = sum + (tonumber(redis.call('HGET', h, emp)) or 0)
end
return sum`,

  /** Every employee with devices, as one string 'emp,devices,emp,devices...' (see Devices). */
  shiftctlPresence: `${LUA_COMMON}
local totals, order = {}, {}
for _, h in ipairs(live_hashes(ARGV[1], ARGV[2])) do
  local flat = redis.call('HGETALL', h)
  for i = 1, #flat, 2 do
    local emp, n = flat[i], tonumber(flat[i + 1])
    if n > 0 then
      if not totals[emp] then order[#order + 1] = emp; totals[emp] = 0 end
      totals[emp] = totals[emp] + n
    end
  end
end
local out = {}
for _, emp in ipairs(order) do out[#out + 1] = emp; out[#out + 1] = totals[emp] end
return table.concat(out, ',')`,

  /**
   * ARGV[3] = employees as a JSON list: their devices across live instances, in order, as one
   * comma-separated string. One string each way rather than an argument and a reply element per
   * employee: for 50,000 employees that is about a third of the round trip, nearly all of it
   * ioredis encoding and decoding 50,000 items on this instance's event loop.
   */
  shiftctlDevices: `${LUA_COMMON}
return table.concat(sum_devices(live_hashes(ARGV[1], ARGV[2]), cjson.decode(ARGV[3])), ',')`,

  /**
   * ARGV[3] = the push as the bus carries it, ARGV[4] = employees as a JSON list: counts their
   * devices (as shiftctlDevices) and publishes the push to each other instance that holds one of
   * them, on that instance's own channel, in one atomic step (the push and its counts see one
   * presence). An instance holding none of them never hears of it: with one shared channel every
   * instance received, decoded and parsed every push, which cost each instance as much as the
   * pushes it delivered. Measured for 50,000 employees (Redis 7 on loopback, 2 cores busy with
   * other work): 18 ms inside Redis with nobody present, 50 ms with 30,000 entries present on two
   * other instances; 50-70 ms round trip. Redis runs nothing else meanwhile, so such a push delays
   * every instance's commands by that much; one employee's push takes about 30 us inside Redis.
   */
  shiftctlPush: `${LUA_COMMON}
local prefix = ARGV[1]
local hashes = live_hashes(prefix, ARGV[2])
local counts, hit = sum_devices(hashes, cjson.decode(ARGV[4]))
local skip = #(prefix .. 'presence:')
for k = 2, #hashes do
  if hit[k] then redis.call('PUBLISH', prefix .. 'bus:' .. string.sub(hashes[k], skip + 1), ARGV[3]) end
end
return table.concat(counts, ',')`,

  /** Live instances. */
  shiftctlInstances: `${LUA_COMMON}
return redis.call('ZCOUNT', ARGV[1] .. 'instances', now_ms(), '+inf')`,

  /** ARGV[3] = ttl: takes the lease if free, renews it if ours; 1 when this instance holds it. */
  shiftctlLead: `
local key, self, ttl = ARGV[1] .. 'lease', ARGV[2], ARGV[3]
local holder = redis.call('GET', key)
if holder == self then
  redis.call('PEXPIRE', key, ttl)
  return 1
end
if not holder then
  redis.call('SET', key, self, 'PX', ttl)
  return 1
end
return 0`,

  /** Goodbye: drops the lease if ours, this instance's hash and its entry in `instances`. */
  shiftctlGoodbye: `
local prefix, self = ARGV[1], ARGV[2]
if redis.call('GET', prefix .. 'lease') == self then redis.call('DEL', prefix .. 'lease') end
redis.call('DEL', prefix .. 'presence:' .. self)
redis.call('ZREM', prefix .. 'instances', self)
return 1`,

  /**
   * A token bucket, as createRateLimiter keeps one: ARGV[1] = key, ARGV[2] = perSecond,
   * ARGV[3] = burst, ARGV[4] = 'take' or 'give'. Take returns {1} or {0, retryAfterSeconds}.
   * The key expires once the bucket would be full again: a missing key is a full bucket.
   */
  shiftctlBucket: `
local key, rate, burst, op = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', key, 'tokens', 'at')
local tokens, at = tonumber(state[1]), tonumber(state[2])
if op == 'give' then
  if tokens then redis.call('HSET', key, 'tokens', string.format('%.17g', math.min(burst, tokens + 1))) end
  return {1}
end
if not tokens then tokens, at = burst, now end
tokens = math.min(burst, tokens + ((now - at) / 1000) * rate)
local ok = 0
if tokens >= 1 then tokens = tokens - 1; ok = 1 end
redis.call('HSET', key, 'tokens', string.format('%.17g', tokens), 'at', now)
local full_in = 86400000
if rate > 0 then full_in = math.ceil((burst - tokens) / rate * 1000) end
redis.call('PEXPIRE', key, full_in + 1000)
if ok == 1 then return {1} end
if rate <= 0 then return {0, 86400} end
return {0, math.ceil((1 - tokens) / rate)}`,
} as const;

type ScriptName = keyof typeof SCRIPTS;
type Scripted = Redis & {
  [K in ScriptName]: (...args: (string | number)[]) => Promise<unknown>;
};

/** The comma-separated counts a script returned, as numbers (none for no employee). */
function counts(reply: unknown, length: number): number[] {
  return length === 0 ? [] : String(reply).split(',').map(Number);
}

function positive(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new ShiftctlError(
      'E_REDIS',
      `The Redis ${name} must be a positive number of ms, not ${value}.`,
    );
  }
  return value;
}

/**
 * Connects to Redis (both connections) and returns the cluster over it; throws an `E_REDIS`
 * error naming the (redacted) URL when Redis cannot be reached, without retrying: a server
 * should fail at start, clearly. Once connected, lost connections are retried forever.
 */
export async function createRedisCluster(options: RedisClusterOptions): Promise<RedisCluster> {
  const group = options.group ?? 'shiftctl';
  const prefix = `${group}:`;
  const heartbeatMs = positive('heartbeat', options.heartbeatMs ?? 2000);
  const instanceTtlMs = positive('instance TTL', options.instanceTtlMs ?? 6000);
  const leaseTtlMs = positive('lease TTL', options.leaseTtlMs ?? 5000);
  const leaseRenewMs = positive('lease renewal', options.leaseRenewMs ?? 1000);
  if (instanceTtlMs <= heartbeatMs || leaseTtlMs <= leaseRenewMs) {
    throw new ShiftctlError(
      'E_REDIS',
      'Each Redis TTL must be longer than its refresh period (instance TTL > heartbeat, ' +
        'lease TTL > lease renewal), or live instances would expire between refreshes.',
    );
  }
  // Readable in CLIENT LIST and in logs: which host and process, plus randomness for uniqueness.
  const instanceId = `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
  const where = redactUrl(options.url);

  let handlers: ClusterHandlers | undefined;
  const warn = (message: string, fields?: Record<string, unknown>) =>
    (handlers?.warn ?? options.warn)?.(message, fields);

  let started = false;
  let closed = false;
  let subDown = false;
  let downAt = 0;
  let connected = false; // both connections made once: from then on, reconnect forever
  const base: RedisOptions = {
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    // At start, give up at the first failure (the caller reports it); afterwards retry quickly
    // at first, then every 2 s at most, forever.
    retryStrategy: (times) => (connected ? Math.min(50 * 2 ** (times - 1), 2000) : null),
    // A command sent while Redis is away waits for two reconnection attempts (about 150 ms),
    // then fails: requests fail fast rather than pile up behind a dead link.
    maxRetriesPerRequest: 2,
  };
  // Commands: auto-pipelining sends everything issued in one tick as one batch. It keeps the
  // order (one pipeline at a time on one connection), so one instance's messages stay in order.
  const cmd = new Redis(options.url, {
    ...base,
    enableAutoPipelining: true,
    connectionName: `shiftctl:${group}:cmd:${instanceId}`,
  }) as Scripted;
  // The bus: a connection in subscriber mode. We resubscribe ourselves on reconnection (not
  // autoResubscribe), so that `resumed` is called exactly when the subscription is back.
  const sub = new Redis(options.url, {
    ...base,
    autoResubscribe: false,
    connectionName: `shiftctl:${group}:sub:${instanceId}`,
  });
  for (const [name, lua] of Object.entries(SCRIPTS)) {
    cmd.defineCommand(name, { lua, numberOfKeys: 0 });
  }

  let lastError: Error | undefined;
  const cmdLink = streak('The Redis connection', warn);
  const subLink = streak('The Redis bus connection', warn);
  cmd.on('error', (err: Error) => {
    lastError = err;
    if (connected) cmdLink.failed(err);
  });
  sub.on('error', (err: Error) => {
    lastError = err;
    // While the bus is known to be down, its 'Lost' warning says enough.
    if (connected && !subDown) subLink.failed(err);
  });
  // A command sent while Redis is away waits in ioredis's offline queue for two reconnection
  // attempts, up to 2 s apart once an outage lasts: a request doing several would hang for many
  // seconds. Once the link has been down for OFFLINE_QUEUE_MS, commands fail at once instead (the
  // request gets a 503 and tries again); a blip shorter than that is ridden out as before.
  let offline: NodeJS.Timeout | undefined;
  cmd.on('close', () => {
    if (offline || closed) return;
    offline = setTimeout(() => {
      cmd.options.enableOfflineQueue = false;
    }, OFFLINE_QUEUE_MS);
    offline.unref();
  });
  cmd.on('ready', () => {
    clearTimeout(offline);
    offline = undefined;
    cmd.options.enableOfflineQueue = true;
    cmdLink.succeeded();
  });

  try {
    await Promise.all([cmd.connect(), sub.connect()]);
  } catch (err) {
    cmd.disconnect();
    sub.disconnect();
    const said = (lastError ?? (err as Error)).message;
    throw new ShiftctlError(
      'E_REDIS',
      // Something else listening there (PostgreSQL's port) hangs up on Redis's first command.
      `Cannot reach Redis at ${where}: ${HUNG_UP.test(said) ? `the server there hung up (${said}): is Redis on that port?` : said}`,
    );
  }
  // ioredis connects even when the URL's database cannot be selected (/99 on a server with 16)
  // and carries on in database 0, beside what else is there: ask again, and fail if it fails.
  const db = cmd.options.db ?? 0;
  if (db !== 0) {
    await cmd.select(db).catch((err: Error) => {
      cmd.disconnect();
      sub.disconnect();
      throw new ShiftctlError(
        'E_REDIS',
        `Redis at ${where} cannot use database ${db}: ${err.message}`,
      );
    });
  }
  connected = true;

  const channel = `${prefix}bus`;
  /** Pushes for the devices this instance holds (see shiftctlPush). */
  const own = `${prefix}bus:${instanceId}`;

  // What this instance holds, to write its hash back if it lapsed (a stall longer than the TTL,
  // or a Redis restart without persistence). Updated as replies come back; the write-back waits
  // for a moment with no join or leave under way, so that none is counted twice or lost.
  const mine = new Map<number, number>();
  let pending = 0;
  let lapsed = false;
  let lapsedWaits = 0;
  const track = async <T>(work: Promise<T>): Promise<T> => {
    pending++;
    try {
      return await work;
    } finally {
      pending--;
    }
  };

  const beat = streak('Refreshing the presence in Redis', warn);
  let beating = false;
  async function heartbeat(): Promise<void> {
    if (beating || closed) return;
    beating = true;
    try {
      const alive = await cmd.shiftctlHeartbeat(prefix, instanceId, instanceTtlMs);
      if (alive === 0) lapsed = true;
      // Write back only at a quiet moment (see `mine`), or after a few beats regardless.
      if (lapsed && (pending === 0 || ++lapsedWaits > 3)) {
        const pairs = [...mine].flat();
        await cmd.shiftctlRestore(prefix, instanceId, instanceTtlMs, ...pairs);
        lapsed = false;
        lapsedWaits = 0;
      }
      beat.succeeded();
    } catch (err) {
      beat.failed(err);
    } finally {
      beating = false;
    }
  }
  let timer: NodeJS.Timeout | undefined;

  sub.on('message', (from: string, text: string) => {
    if (!handlers) return;
    let o: string;
    let message: ClusterMessage;
    if (from === own) {
      const push = decodePush(text);
      if (!push) {
        warn('A push on the Redis bus is malformed; ignored', { length: text.length });
        return;
      }
      ({ o, message } = push);
    } else if (from === channel) {
      let parsed: { o: string } & ClusterMessage;
      try {
        parsed = JSON.parse(text);
      } catch {
        warn('A message on the Redis bus is not JSON; ignored', { length: text.length });
        return;
      }
      ({ o, ...message } = parsed);
      if (o === instanceId) return;
    } else {
      return;
    }
    try {
      handlers.message(message, o);
    } catch (err) {
      warn('Handling a message from another instance failed', {
        from: o,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  });
  sub.on('close', () => {
    if (!started || closed || subDown) return;
    subDown = true;
    downAt = Date.now();
    warn('Lost the Redis bus connection; reconnecting (messages meanwhile may be missed)', {
      redis: where,
    });
  });
  sub.on('ready', () => {
    if (!subDown || closed) return;
    sub.subscribe(channel, own).then(
      () => {
        subDown = false;
        subLink.succeeded();
        warn('The Redis bus connection is back', { redis: where, downMs: Date.now() - downAt });
        handlers?.resumed?.();
      },
      // Still down (or refused): the next 'ready' tries again.
      (err: Error) => subLink.failed(err),
    );
  });

  async function publish(message: ClusterMessage): Promise<void> {
    await cmd.publish(channel, JSON.stringify({ o: instanceId, ...message }));
  }

  const withTimeout = <T>(work: Promise<T>, what: string): Promise<T> => {
    let timeout: NodeJS.Timeout | undefined;
    return Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timeout = setTimeout(
          () => reject(new ShiftctlError('E_REDIS', `${what}: Redis at ${where} did not answer`)),
          PING_TIMEOUT_MS,
        );
      }),
    ]).finally(() => clearTimeout(timeout));
  };

  function stop(): void {
    closed = true;
    if (timer) clearInterval(timer);
    timer = undefined;
    clearTimeout(offline);
  }

  const cluster: RedisCluster = {
    engine: 'redis',
    instanceId,
    leaseRenewMs,

    async start(given) {
      if (started) throw new Error('The Redis cluster is already started.');
      handlers = given;
      await sub.subscribe(channel, own);
      await cmd.shiftctlHeartbeat(prefix, instanceId, instanceTtlMs);
      started = true;
      timer = setInterval(() => void heartbeat(), heartbeatMs);
      timer.unref();
    },

    broadcast: publish,

    async push(empIds, text) {
      const list = JSON.stringify(empIds);
      const payload = encodePush(instanceId, list, text);
      return counts(await cmd.shiftctlPush(prefix, instanceId, payload, list), empIds.length);
    },

    async join(empId, cap) {
      const count = (await track(
        cmd.shiftctlJoin(prefix, instanceId, empId, cap, instanceTtlMs),
      )) as number | null;
      if (count !== null) mine.set(empId, (mine.get(empId) ?? 0) + 1);
      return count;
    },

    async leave(empId) {
      // The device is gone whatever Redis says: should the write fail, the hash is rewritten
      // from `mine` at the next heartbeat rather than keep a device that left.
      const left = (mine.get(empId) ?? 0) - 1;
      if (left > 0) mine.set(empId, left);
      else mine.delete(empId);
      try {
        return (await track(cmd.shiftctlLeave(prefix, instanceId, empId))) as number;
      } catch (err) {
        lapsed = true;
        throw err;
      }
    },

    async presence() {
      const text = String(await cmd.shiftctlPresence(prefix, instanceId));
      const flat = text === '' ? [] : text.split(',').map(Number);
      const map = new Map<number, number>();
      for (let i = 0; i + 1 < flat.length; i += 2)
        map.set(flat[i] as number, flat[i + 1] as number);
      return map;
    },

    async devices(empIds) {
      if (empIds.length === 0) return [];
      const list = JSON.stringify(empIds);
      return counts(await cmd.shiftctlDevices(prefix, instanceId, list), empIds.length);
    },

    async instances() {
      return (await cmd.shiftctlInstances(prefix, instanceId)) as number;
    },

    async lead() {
      // Cut off from Redis, a leader cannot renew: it stops leading at once rather than when
      // its lease would have lapsed, since another instance may take the lease by then.
      if (cmd.status !== 'ready') return false;
      return (await cmd.shiftctlLead(prefix, instanceId, leaseTtlMs)) === 1;
    },

    async loadFaults() {
      const text = await cmd.get(`${prefix}faults`);
      return text === null ? undefined : (JSON.parse(text) as SharedFaults);
    },

    async saveFaults(settings) {
      await cmd.set(`${prefix}faults`, JSON.stringify(settings));
    },

    rateLimiter(limit: RateLimit): SharedRateLimiter {
      // The limit is part of the key: two limiters with different limits never share a bucket.
      const keyOf = (key: string) => `${prefix}rl:${limit.perSecond}:${limit.burst}:${key}`;
      return {
        async take(key): Promise<RateLimitResult> {
          const [ok, retry] = (await cmd.shiftctlBucket(
            keyOf(key),
            limit.perSecond,
            limit.burst,
            'take',
          )) as [number, number?];
          return ok === 1 ? { ok: true } : { ok: false, retryAfterSeconds: retry ?? 1 };
        },
        async giveBack(key) {
          await cmd.shiftctlBucket(keyOf(key), limit.perSecond, limit.burst, 'give');
        },
      };
    },

    async ping() {
      if (cmd.status !== 'ready') {
        throw new ShiftctlError('E_REDIS', `Not connected to Redis at ${where} (${cmd.status}).`);
      }
      const t = performance.now();
      await withTimeout(cmd.ping(), 'ping');
      return performance.now() - t;
    },

    async close() {
      if (closed) return;
      stop();
      try {
        if (cmd.status === 'ready') {
          await withTimeout(cmd.shiftctlGoodbye(prefix, instanceId), 'leaving the cluster');
        }
      } catch (err) {
        warn('Could not remove this instance from Redis; it expires by itself', {
          error: err instanceof Error ? err.message : String(err),
        });
      }
      await Promise.all(
        [cmd, sub].map((client) =>
          client.status === 'ready'
            ? withTimeout(client.quit(), 'quit').catch(() => client.disconnect())
            : client.disconnect(),
        ),
      );
    },

    crash() {
      stop();
      cmd.disconnect();
      sub.disconnect();
    },
  };
  return cluster;
}

/**
 * A push as its bus channel carries it: the sender's id, the employees (a JSON list, as the
 * script reads them) and the message's text, a line each. The text is not escaped into a JSON
 * envelope: the receiver would parse it twice, and it is already JSON without raw line breaks.
 */
export function encodePush(from: string, empIds: string, text: string): string {
  return `${from}\n${empIds}\n${text}`;
}

/** The push in `payload`, or undefined when it is not one. */
export function decodePush(
  payload: string,
): { o: string; message: Extract<ClusterMessage, { kind: 'push' }> } | undefined {
  const first = payload.indexOf('\n');
  const second = first < 0 ? -1 : payload.indexOf('\n', first + 1);
  if (second < 0) return undefined;
  let empIds: unknown;
  try {
    empIds = JSON.parse(payload.slice(first + 1, second));
  } catch {
    return undefined;
  }
  if (!Array.isArray(empIds) || !empIds.every((e) => Number.isSafeInteger(e))) return undefined;
  return {
    o: payload.slice(0, first),
    message: { kind: 'push', empIds: empIds as number[], text: payload.slice(second + 1) },
  };
}
