/**
 * Target policy for remote runtime endpoints (DESIGN §8): the probe and the live client must not
 * be a way to reach link-local, unspecified, multicast or cloud-metadata addresses (SSRF). IP
 * literals are normalised first (decimal, octal, hex, short and IPv4-mapped/-embedded IPv6
 * forms) and every address a host name resolves to (`node:dns` lookup, so `/etc/hosts` counts)
 * is checked. Loopback and private ranges stay allowed: runtimes live there.
 *
 * Remaining window: `fetch` and `WebSocket` resolve the name again themselves and cannot be
 * pinned to the vetted address, so a name whose DNS answer changes between the check and the
 * connection (DNS rebinding with a very short TTL) can still reach a refused address once.
 * The live client re-checks before every request (with a short cache), which narrows the
 * window to that race; an IP-literal endpoint has no window.
 * @module
 */
import { lookup as dnsLookup } from "node:dns/promises";
import { ApiError } from "../../shared/mod.ts";

/** Resolves a host name to every address it has (IPv4 dotted or IPv6 text). */
export type Lookup = (host: string) => Promise<string[]>;

/** The default {@link Lookup}: the system resolver, all addresses (hosts file included). */
export const systemLookup: Lookup = async (host) =>
  (await dnsLookup(host, { all: true, verbatim: true })).map((a) => a.address);

/**
 * Parses an IPv4 literal the way `inet_aton` and URL parsers do (1–4 parts, each decimal,
 * `0`-prefixed octal or `0x` hex; the last part fills the remaining bytes); null if not one.
 */
export function parseIPv4(s: string): number | null {
  const parts = s.replace(/\.$/, "").split(".");
  if (parts.length < 1 || parts.length > 4) return null;
  const nums: number[] = [];
  for (const p of parts) {
    let n: number;
    if (/^0x[0-9a-f]*$/i.test(p)) n = p.length === 2 ? 0 : parseInt(p.slice(2), 16);
    else if (/^0[0-7]+$/.test(p)) n = parseInt(p.slice(1), 8);
    else if (/^(0|[1-9][0-9]*)$/.test(p)) n = Number(p);
    else return null;
    if (!Number.isFinite(n)) return null;
    nums.push(n);
  }
  const last = nums.pop()!;
  if (nums.some((n) => n > 255) || last >= 256 ** (4 - nums.length)) return null;
  let v = 0;
  nums.forEach((n, i) => v += n * 256 ** (3 - i));
  return v + last;
}

/** Parses an IPv6 literal (brackets and a zone allowed) into 16 bytes; null if not one. */
export function parseIPv6(s: string): Uint8Array | null {
  let t = s.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  if (!t.includes(":")) return null;
  const out = new Uint8Array(16);
  // A trailing dotted IPv4 part fills the last 4 bytes.
  const v4 = t.match(/^(.*:)(\d+\.\d+\.\d+\.\d+)$/);
  let tail: number[] = [];
  if (v4) {
    const n = parseIPv4(v4[2]);
    if (n === null || !/^\d+\.\d+\.\d+\.\d+$/.test(v4[2])) return null;
    tail = [(n >>> 16) & 0xffff, n & 0xffff];
    t = v4[1].endsWith("::") ? v4[1] : v4[1].slice(0, -1);
  }
  const halves = t.split("::");
  if (halves.length > 2) return null;
  const group = (x: string) => x === "" ? [] : x.split(":");
  const head = group(halves[0]);
  const rest = halves.length === 2 ? group(halves[1]) : [];
  const words: number[] = [];
  for (const g of [...head, ...rest]) {
    if (!/^[0-9a-f]{1,4}$/i.test(g)) return null;
  }
  const total = head.length + rest.length + tail.length;
  if (halves.length === 1 && total !== 8) return null;
  if (halves.length === 2 && total > 7) return null;
  words.push(...head.map((g) => parseInt(g, 16)));
  if (halves.length === 2) { for (let i = total; i < 8; i++) words.push(0); }
  words.push(...rest.map((g) => parseInt(g, 16)), ...tail);
  words.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}

const v4 = (a: number, b: number, c: number, d: number) =>
  ((a << 24) >>> 0) + (b << 16) + (c << 8) + d;
const inV4 = (ip: number, base: number, bits: number) =>
  bits === 0 || (ip >>> (32 - bits)) === (base >>> (32 - bits));

/** Why an IPv4 address (as a 32-bit number) is refused, or null. */
function v4Problem(ip: number): string | null {
  if (ip === v4(169, 254, 169, 254) || ip === v4(100, 100, 100, 200)) {
    return "a cloud metadata address";
  }
  if (inV4(ip, v4(0, 0, 0, 0), 8)) return "an unspecified address";
  if (inV4(ip, v4(169, 254, 0, 0), 16)) return "a link-local address";
  if (inV4(ip, v4(224, 0, 0, 0), 4)) return "a multicast address";
  if (inV4(ip, v4(240, 0, 0, 0), 4)) return "a reserved or broadcast address";
  return null;
}

/** Why an IPv6 address is refused (embedded IPv4 forms are judged as IPv4), or null. */
function v6Problem(b: Uint8Array): string | null {
  const zero = (from: number, to: number) => b.subarray(from, to).every((x) => x === 0);
  const embedded = () => v4(b[12], b[13], b[14], b[15]);
  // ::ffff:a.b.c.d (mapped), ::a.b.c.d (compatible), 64:ff9b::a.b.c.d (NAT64).
  if (zero(0, 10) && b[10] === 0xff && b[11] === 0xff) return v4Problem(embedded());
  if (zero(0, 12) && !(zero(12, 15) && b[15] <= 1)) return v4Problem(embedded());
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zero(4, 12)) {
    return v4Problem(embedded());
  }
  if (zero(0, 16)) return "an unspecified address";
  if (b[0] === 0xfe && (b[1] & 0xc0) === 0x80) return "a link-local address";
  if (b[0] === 0xff) return "a multicast address";
  const ec2 = parseIPv6("fd00:ec2::254")!;
  if (b.every((x, i) => x === ec2[i])) return "a cloud metadata address";
  return null;
}

/** Why the address literal `ip` (any IPv4 spelling, or IPv6) is refused; null when allowed. */
export function addressProblem(ip: string): string | null {
  const n = parseIPv4(ip);
  if (n !== null) return v4Problem(n);
  const b = parseIPv6(ip);
  if (b !== null) return v6Problem(b);
  return null;
}

/** Is `host` an IP literal (any spelling) rather than a name to resolve? */
export function isIpLiteral(host: string): boolean {
  return parseIPv4(host) !== null || parseIPv6(host) !== null;
}

function refused(why: string): ApiError {
  return new ApiError(
    "endpoint_not_allowed",
    `The endpoint's host is, or resolves to, ${why}; those are never contacted.`,
  );
}

export interface EndpointCheckOptions {
  lookup?: Lookup;
  /**
   * What a name that does not resolve means: "allow" when saving (it is checked again before
   * every connection), "refuse" before connecting (fail closed).
   */
  unresolvable?: "allow" | "refuse";
}

/**
 * Throws 400 `endpoint_not_allowed` when the endpoint's host is, or resolves to, a refused
 * address (every resolved address counts). The message never names the host or address.
 */
export async function assertEndpointAllowed(
  endpoint: string | URL,
  opts: EndpointCheckOptions = {},
): Promise<void> {
  let host: string;
  try {
    host = new URL(String(endpoint)).hostname;
  } catch {
    throw new ApiError("invalid_endpoint", "The endpoint is not an absolute URL.");
  }
  if (isIpLiteral(host)) {
    const p = addressProblem(host);
    if (p) throw refused(p);
    return;
  }
  let addrs: string[];
  try {
    addrs = await (opts.lookup ?? systemLookup)(host.replace(/\.$/, ""));
  } catch {
    if (opts.unresolvable === "refuse") {
      throw new ApiError(
        "remote_runtime_unavailable",
        "The endpoint's host name does not resolve.",
      );
    }
    return;
  }
  for (const a of addrs) {
    const p = addressProblem(a);
    if (p) throw refused(p);
  }
}

/**
 * The live client's check: the endpoint is vetted before each connection, and a passed check
 * is reused for `ttlMs` so a burst of calls costs one lookup. IP literals are checked once.
 */
export class EndpointGuard {
  readonly #url: URL;
  readonly #opts: EndpointCheckOptions;
  readonly #ttlMs: number;
  #okUntil = 0;
  #literal: boolean;

  constructor(url: URL, opts: EndpointCheckOptions & { ttlMs?: number } = {}) {
    this.#url = url;
    this.#opts = { unresolvable: "refuse", ...opts };
    this.#ttlMs = opts.ttlMs ?? 2000;
    this.#literal = isIpLiteral(url.hostname);
    if (this.#literal) {
      const p = addressProblem(url.hostname);
      if (p) throw refused(p);
    }
  }

  /** True when a check now would pass without a lookup (an IP literal, or checked recently). */
  get fresh(): boolean {
    return this.#literal || performance.now() < this.#okUntil;
  }

  /** Resolves when the endpoint may be contacted now; throws `endpoint_not_allowed` otherwise. */
  async check(): Promise<void> {
    if (this.#literal || performance.now() < this.#okUntil) return;
    await assertEndpointAllowed(this.#url, this.#opts);
    this.#okUntil = performance.now() + this.#ttlMs;
  }

  toString(): string {
    return "EndpointGuard([redacted])";
  }
}
