/**
 * The Backend's side of capability tokens (DESIGN §8): its Ed25519 key pair
 * (`<state-dir>/backend-key`, created on first start, mode 0600) and the minting of tokens —
 * one per mutating request bound to method and path, and one read-scoped token per runtime
 * reused until shortly before it expires, so reads and event streams do not sign per request.
 * @module
 */
import { CompactSign, exportJWK, generateKeyPair, importJWK } from "jose";
import {
  CAPABILITY_ALG,
  CAPABILITY_MAX_LIFE_SEC,
  CAPABILITY_TYP,
  formatPublicKey,
  keyIdOf,
} from "../../shared/capability.ts";

/** The Backend's signing key; redacts itself when printed. */
export interface BackendKey {
  /** Key id: the tokens' `kid` and `iss`. */
  kid: string;
  /** The public key in the form `--trust-key` takes. */
  publicKey: string;
  privateKey: CryptoKey;
}

/** Where the key lives under the state folder. */
export const BACKEND_KEY_FILE = "backend-key";

/**
 * Loads `<stateDir>/backend-key`, creating it (0600, create-new so two starts cannot both
 * write) when missing. A key file readable by group or others is refused: it signs every
 * runtime call.
 */
export async function loadOrCreateBackendKey(stateDir: string): Promise<BackendKey> {
  const path = `${stateDir}/${BACKEND_KEY_FILE}`;
  let text: string | null = null;
  try {
    const info = await Deno.stat(path);
    if (info.mode !== null && (info.mode & 0o077) !== 0) {
      throw new Error(`${BACKEND_KEY_FILE} must not be accessible to group or others (chmod 600)`);
    }
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  if (text === null) {
    const pair = await generateKeyPair(CAPABILITY_ALG, { extractable: true });
    const jwk = await exportJWK(pair.privateKey);
    await Deno.mkdir(stateDir, { recursive: true });
    try {
      const f = await Deno.open(path, { createNew: true, write: true, mode: 0o600 });
      try {
        await f.write(new TextEncoder().encode(JSON.stringify(jwk) + "\n"));
        await f.sync();
      } finally {
        f.close();
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    }
    text = await Deno.readTextFile(path); // whoever won the create race
  }
  const jwk = JSON.parse(text) as { kty?: string; crv?: string; x?: string; d?: string };
  if (jwk.kty !== "OKP" || jwk.crv !== "Ed25519" || !jwk.x || !jwk.d) {
    throw new Error(`${BACKEND_KEY_FILE} is not an Ed25519 private key`);
  }
  const privateKey = await importJWK(jwk, CAPABILITY_ALG) as CryptoKey;
  const key = { kid: await keyIdOf(jwk.x), publicKey: formatPublicKey(jwk.x), privateKey };
  Object.defineProperty(key, Symbol.for("Deno.customInspect"), {
    value: () => `BackendKey(${key.kid})`,
  });
  Object.defineProperty(key, "toJSON", { value: () => ({ kid: key.kid }) });
  return key;
}

export interface MinterOptions {
  /** Seconds since the epoch (tests move the clock). */
  now?: () => number;
  /** Token life, seconds (≤ 60). */
  lifeSec?: number;
}

const enc = new TextEncoder();

/** A read token is renewed when less than this many seconds of its life remain. */
const READ_RENEW_SEC = 20;

/** Mints capability tokens with the Backend key. */
export class CapabilityMinter {
  readonly #key: BackendKey;
  readonly #now: () => number;
  readonly #life: number;
  readonly #read = new Map<string, { exp: number; token: Promise<string> }>();
  readonly #header: { alg: string; typ: string; kid: string };

  constructor(key: BackendKey, opts: MinterOptions = {}) {
    this.#key = key;
    this.#now = opts.now ?? (() => Date.now() / 1000);
    this.#life = Math.min(opts.lifeSec ?? CAPABILITY_MAX_LIFE_SEC, CAPABILITY_MAX_LIFE_SEC);
    this.#header = { alg: CAPABILITY_ALG, typ: CAPABILITY_TYP, kid: key.kid };
  }

  /** The key id tokens carry. */
  get kid(): string {
    return this.#key.kid;
  }

  /** A token for exactly one request: `htm` = method, `htu` = path with query. */
  mint(aud: string, method: string, pathWithQuery: string): Promise<string> {
    return this.#sign(aud, { htm: method.toUpperCase(), htu: pathWithQuery });
  }

  /** The runtime's read-scoped token, shared by reads and event streams until near expiry. */
  read(aud: string): Promise<string> {
    const now = this.#now();
    const cached = this.#read.get(aud);
    if (cached && cached.exp - now > READ_RENEW_SEC) return cached.token;
    const iat = Math.floor(now);
    const token = this.#sign(aud, { scope: "read" }, iat);
    this.#read.set(aud, { exp: iat + this.#life, token });
    token.catch(() => this.#read.delete(aud));
    return token;
  }

  /** Signs the claims as a compact JWS (jose; the claims are serialised here, once). */
  #sign(aud: string, claims: Record<string, string>, iat = Math.floor(this.#now())) {
    const payload = JSON.stringify({
      ...claims,
      iss: this.#key.kid,
      aud,
      iat,
      exp: iat + this.#life,
      jti: crypto.randomUUID(),
    });
    return new CompactSign(enc.encode(payload)).setProtectedHeader(this.#header)
      .sign(this.#key.privateKey);
  }

  toString(): string {
    return `CapabilityMinter(${this.#key.kid})`;
  }
}
