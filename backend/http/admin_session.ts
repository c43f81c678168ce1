/**
 * Admin login in the browser (DESIGN §8): a Backend started with an admin token can be used
 * from a browser after logging in once. The session cookie holds a random id — never the
 * token — that expires after 12 h idle and dies at logout; failed logins are limited per
 * client address. Ids are kept hashed, so a memory dump does not hand out live cookies.
 * @module
 */
import { base64url } from "jose";

const encodeBase64Url = (b: Uint8Array) => base64url.encode(b);

/** Idle time after which a session ends. */
export const SESSION_IDLE_MS = 12 * 60 * 60 * 1000;
/** Failed logins per address per window before 429. */
export const LOGIN_FAILURES_MAX = 10;
export const LOGIN_WINDOW_MS = 60_000;
/** Sessions kept at most; the least recently used goes first. */
const SESSIONS_MAX = 1000;
/** Addresses tracked by the limiter at most (oldest forgotten first). */
const LIMITER_MAX = 10_000;

async function hashId(id: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(id));
  return encodeBase64Url(new Uint8Array(d));
}

/** Live admin sessions, by hashed id. */
export class AdminSessions {
  readonly #now: () => number;
  /** hash → last use (ms); Map order = least recently used first. */
  readonly #live = new Map<string, number>();

  constructor(opts: { now?: () => number } = {}) {
    this.#now = opts.now ?? Date.now;
  }

  /** Starts a session; returns the id for the cookie (shown once, stored only hashed). */
  async create(): Promise<string> {
    const id = encodeBase64Url(crypto.getRandomValues(new Uint8Array(32)));
    const h = await hashId(id);
    if (this.#live.size >= SESSIONS_MAX) this.#live.delete(this.#live.keys().next().value!);
    this.#live.set(h, this.#now());
    return id;
  }

  /**
   * When `id` names a live session: refreshes its idle timer and returns the session's audit
   * label (`session:` + a prefix of the id's hash, never the id); else null.
   */
  async touch(id: string | undefined): Promise<string | null> {
    if (!id || id.length > 100) return null;
    const h = await hashId(id);
    const last = this.#live.get(h);
    if (last === undefined) return null;
    const now = this.#now();
    this.#live.delete(h);
    if (now - last > SESSION_IDLE_MS) return null;
    this.#live.set(h, now);
    return `session:${h.slice(0, 12)}`;
  }

  /** Ends a session (logout); the old cookie is refused from then on. */
  async revoke(id: string | undefined): Promise<void> {
    if (id) this.#live.delete(await hashId(id));
  }
}

/** Failed login attempts per client address within a sliding minute. */
export class LoginLimiter {
  readonly #now: () => number;
  readonly #fails = new Map<string, number[]>();

  constructor(opts: { now?: () => number } = {}) {
    this.#now = opts.now ?? Date.now;
  }

  #recent(addr: string): number[] {
    const cutoff = this.#now() - LOGIN_WINDOW_MS;
    const list = (this.#fails.get(addr) ?? []).filter((t) => t > cutoff);
    if (list.length) this.#fails.set(addr, list);
    else this.#fails.delete(addr);
    return list;
  }

  /** True when `addr` has used up its failures for this minute. */
  blocked(addr: string): boolean {
    return this.#recent(addr).length >= LOGIN_FAILURES_MAX;
  }

  /** Records one failure of `addr`. */
  fail(addr: string): void {
    const list = this.#recent(addr);
    list.push(this.#now());
    this.#fails.delete(addr);
    this.#fails.set(addr, list);
    if (this.#fails.size > LIMITER_MAX) this.#fails.delete(this.#fails.keys().next().value!);
  }
}
