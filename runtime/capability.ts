/**
 * The runtime's side of capability tokens (DESIGN §8): trusted Backend keys and the check of
 * one request's token — signature, audience (this runtime's id), expiry within ±30 s skew,
 * life ≤ 60 s, scope, method and path, and a bounded replay cache of mutating `jti`s.
 * @module
 */
import { compactVerify, decodeProtectedHeader, importJWK } from "jose";
import {
  CAPABILITY_ALG,
  CAPABILITY_MAX_LIFE_SEC,
  CAPABILITY_SKEW_SEC,
  CAPABILITY_TYP,
  formatPublicKey,
  keyIdOf,
  parsePublicKey,
} from "../shared/capability.ts";

/** One Backend public key this runtime accepts tokens from. */
export interface TrustedKey {
  /** Key id (the token's `kid` and `iss`). */
  kid: string;
  /** The key as `--trust-key` takes it. */
  text: string;
  key: CryptoKey;
}

/** Parses and imports a `--trust-key` value; throws a plain Error when it is malformed. */
export async function loadTrustKey(text: string): Promise<TrustedKey> {
  const x = parsePublicKey(text);
  const key = await importJWK({ kty: "OKP", crv: "Ed25519", x }, CAPABILITY_ALG) as CryptoKey;
  return { kid: await keyIdOf(x), text: formatPublicKey(x), key };
}

/** The keys of a `--trust-keys-file`: one per line; blank lines and `#` comments skipped. */
export async function readTrustKeysFile(path: string): Promise<string[]> {
  const text = await Deno.readTextFile(path);
  return text.split("\n").map((l) => l.replace(/#.*$/, "").trim()).filter((l) => l !== "");
}

const READ_METHODS = new Set(["GET", "HEAD"]);
const dec = new TextDecoder();

/** The registered claims of a capability token, once {@link claimsValid} passed. */
interface Claims {
  iss: string;
  iat: number;
  exp: number;
  jti: unknown;
  scope?: unknown;
  htm?: unknown;
  htu?: unknown;
}

/**
 * RFC 7519 claims as jose's jwtVerify checks them for us: a JSON object, issuer, audience (a
 * string or a list holding it), `iat` and `exp` numbers with `exp` not passed and `nbf` (if
 * any) reached, both within the allowed clock skew.
 */
function claimsValid(p: unknown, iss: string, aud: string, now: number): p is Claims {
  if (typeof p !== "object" || p === null || Array.isArray(p)) return false;
  const c = p as Record<string, unknown>;
  if (c.iss !== iss) return false;
  if (c.aud !== aud && !(Array.isArray(c.aud) && c.aud.includes(aud))) return false;
  if (typeof c.iat !== "number" || typeof c.exp !== "number") return false;
  if (c.exp <= now - CAPABILITY_SKEW_SEC) return false;
  return c.nbf === undefined || (typeof c.nbf === "number" && c.nbf <= now + CAPABILITY_SKEW_SEC);
}
/** Mutating `jti`s remembered (until their expiry) to refuse replays. */
export const DEFAULT_REPLAY_CACHE_MAX = 100_000;
/** Verified read tokens remembered (until their expiry) so a reused one is not verified again. */
export const DEFAULT_READ_CACHE_MAX = 1024;

export interface VerifierOptions {
  /** Seconds since the epoch (tests move the clock). */
  now?: () => number;
  replayCacheMax?: number;
  /** Verified read tokens kept (default {@link DEFAULT_READ_CACHE_MAX}; 0 turns it off). */
  readCacheMax?: number;
}

/** Verifies capability tokens for one runtime; holds the replay cache. */
export class CapabilityVerifier {
  readonly #runtimeId: string;
  readonly #keys: Map<string, TrustedKey>;
  /** The trusted key when there is exactly one. */
  readonly #only: TrustedKey | undefined;
  readonly #now: () => number;
  readonly #max: number;
  /** `kid:jti` → expiry (s); insertion order is roughly expiry order. */
  readonly #seen = new Map<string, number>();
  /**
   * Read tokens that passed every check, by their exact text → the last second they are
   * accepted (expiry + skew). A Backend reuses one read token for up to a minute, so all but
   * the first request skip the signature check (issue 15: it was half the runtime's CPU per
   * proxied read). Mutating tokens are never cached: each is single-use (replay cache).
   */
  readonly #reads = new Map<string, number>();
  readonly #readMax: number;

  constructor(runtimeId: string, keys: TrustedKey[], opts: VerifierOptions = {}) {
    this.#runtimeId = runtimeId;
    this.#keys = new Map(keys.map((k) => [k.kid, k]));
    this.#only = this.#keys.size === 1 ? [...this.#keys.values()][0] : undefined;
    this.#now = opts.now ?? (() => Date.now() / 1000);
    this.#max = opts.replayCacheMax ?? DEFAULT_REPLAY_CACHE_MAX;
    this.#readMax = opts.readCacheMax ?? DEFAULT_READ_CACHE_MAX;
  }

  /** Read tokens remembered as verified right now. */
  get cachedReads(): number {
    return this.#reads.size;
  }

  /** Number of trusted keys. */
  get size(): number {
    return this.#keys.size;
  }

  /**
   * True when `token` authorises `method` on `pathWithQuery` (as this runtime received it).
   * Never throws; the caller answers 401 with no detail.
   */
  async verify(token: string, method: string, pathWithQuery: string): Promise<boolean> {
    const until = this.#reads.get(token);
    if (until !== undefined) {
      if (this.#now() < until) return READ_METHODS.has(method);
      this.#reads.delete(token);
      return false; // expired: a full check would refuse it too
    }
    // One trusted key (the usual case): no separate header decode to pick it; the verified
    // header must still name it.
    let trusted = this.#only;
    if (!trusted) {
      let kid: unknown;
      try {
        kid = decodeProtectedHeader(token).kid;
      } catch {
        return false;
      }
      trusted = typeof kid === "string" ? this.#keys.get(kid) : undefined;
      if (!trusted) return false;
    }
    const now = this.#now();
    // The JWS check is jose's; the JWT claims are checked here, as jwtVerify would (it costs
    // about half again as much, and a mutating request pays it every time).
    let p: Record<string, unknown>;
    try {
      const r = await compactVerify(token, trusted.key, { algorithms: [CAPABILITY_ALG] });
      const h = r.protectedHeader;
      if (h.typ !== CAPABILITY_TYP || h.kid !== trusted.kid) return false;
      p = JSON.parse(dec.decode(r.payload));
    } catch {
      return false;
    }
    if (!claimsValid(p, trusted.kid, this.#runtimeId, now)) return false;
    const { iat, exp, jti } = p;
    if (typeof jti !== "string" || jti.length === 0 || jti.length > 128) return false;
    if (exp - iat > CAPABILITY_MAX_LIFE_SEC || iat > now + CAPABILITY_SKEW_SEC) return false;
    const read = READ_METHODS.has(method);
    if (p.scope === "read") {
      const ok = read && p.htm === undefined && p.htu === undefined;
      if (ok) this.#rememberRead(token, exp + CAPABILITY_SKEW_SEC, now);
      return ok;
    }
    if (p.htm !== method || p.htu !== pathWithQuery) return false;
    if (read) return true;
    return this.#firstUse(`${trusted.kid}:${jti}`, exp, now);
  }

  /** Keeps a verified read token until `until` (s); bounded, expired entries go first. */
  #rememberRead(token: string, until: number, now: number) {
    if (this.#readMax <= 0) return;
    if (this.#reads.size >= this.#readMax) {
      for (const [t, u] of this.#reads) if (u < now) this.#reads.delete(t);
      // Still full of live tokens (many Backends?): forget the oldest; it is verified again.
      while (this.#reads.size >= this.#readMax) {
        this.#reads.delete(this.#reads.keys().next().value!);
      }
    }
    this.#reads.set(token, until);
  }

  /** Records a mutating jti; false when it was seen (replay) or the cache is full of live ones. */
  #firstUse(key: string, exp: number, now: number): boolean {
    if (this.#seen.has(key)) return false;
    // Oldest first (insertion order is about expiry order): drop the expired head, so the
    // cache holds live entries only and a full one is not swept entry by entry per request.
    for (const [k, e] of this.#seen) {
      if (e + CAPABILITY_SKEW_SEC >= now) break;
      this.#seen.delete(k);
    }
    if (this.#seen.size >= this.#max) return false; // full of live entries: fail closed
    this.#seen.set(key, exp);
    return true;
  }
}

/**
 * The path with query of a request URL as `URL.pathname + URL.search` gives it, without
 * parsing the URL again (the request's URL is already normalised by the server).
 */
export function pathWithQuery(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const hash = url.indexOf("#", start);
  const p = hash < 0 ? url.slice(start) : url.slice(start, hash);
  return p.endsWith("?") ? p.slice(0, -1) : p;
}
