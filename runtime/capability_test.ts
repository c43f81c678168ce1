/**
 * CapabilityVerifier's cache of verified read tokens (issue 15): a Backend reuses one read
 * token for up to a minute, so only its first use pays for the signature check — without
 * accepting anything a full check would refuse. Clocks are moved by hand.
 */
import assert from "node:assert/strict";
import { CompactSign } from "jose";
import { CapabilityMinter, loadOrCreateBackendKey } from "../backend/registry/capability.ts";
import { CAPABILITY_SKEW_SEC } from "../shared/capability.ts";
import { CapabilityVerifier, loadTrustKey, pathWithQuery } from "./capability.ts";

async function setup(readCacheMax?: number) {
  const dir = await Deno.makeTempDir({ prefix: "yoi-cap-unit-" });
  const key = await loadOrCreateBackendKey(dir);
  await Deno.remove(dir, { recursive: true });
  let now = 1_800_000_000;
  const clock = { set: (t: number) => now = t, get: () => now };
  const minter = new CapabilityMinter(key, { now: () => now });
  const verifier = new CapabilityVerifier("rt", [await loadTrustKey(key.publicKey)], {
    now: () => now,
    readCacheMax,
  });
  return { key, minter, verifier, clock };
}

Deno.test("read tokens: verified once, then served from the cache until they expire", async () => {
  const { minter, verifier, clock } = await setup();
  const t0 = clock.get();
  const token = await minter.read("rt");
  assert.equal(verifier.cachedReads, 0);
  assert.equal(await verifier.verify(token, "GET", "/v1/workers"), true);
  assert.equal(verifier.cachedReads, 1);
  assert.equal(await verifier.verify(token, "GET", "/v1/runtime"), true);
  assert.equal(await verifier.verify(token, "HEAD", "/v1/workers"), true);
  assert.equal(verifier.cachedReads, 1);

  // Cached or not, a read token never authorises a mutation.
  assert.equal(await verifier.verify(token, "POST", "/v1/workers"), false);
  assert.equal(await verifier.verify(token, "DELETE", "/v1/workers/x"), false);

  // Still good within the skew after its expiry, refused after: the cache drops it.
  clock.set(t0 + 60 + CAPABILITY_SKEW_SEC - 1);
  assert.equal(await verifier.verify(token, "GET", "/v1/workers"), true);
  clock.set(t0 + 60 + CAPABILITY_SKEW_SEC + 1);
  assert.equal(await verifier.verify(token, "GET", "/v1/workers"), false);
  assert.equal(verifier.cachedReads, 0);
  assert.equal(await verifier.verify(token, "GET", "/v1/workers"), false);
});

Deno.test("read tokens: a refused token is never cached, a tampered copy is refused", async () => {
  const { minter, verifier } = await setup();
  const other = await minter.read("other-runtime"); // wrong audience
  assert.equal(await verifier.verify(other, "GET", "/v1/workers"), false);
  assert.equal(verifier.cachedReads, 0);
  const token = await minter.read("rt");
  assert.equal(await verifier.verify(token, "GET", "/v1/workers"), true);
  const [h, p, s] = token.split(".");
  const tampered = `${h}.${p}.${s.slice(0, -2)}${s.endsWith("AA") ? "BA" : "AA"}`;
  assert.equal(await verifier.verify(tampered, "GET", "/v1/workers"), false);
  assert.equal(verifier.cachedReads, 1);
});

Deno.test("read tokens: the cache is bounded; tokens pushed out are verified again", async () => {
  const { key, verifier, clock } = await setup(2);
  const tokens: string[] = [];
  for (let i = 0; i < 4; i++) {
    tokens.push(await new CapabilityMinter(key, { now: clock.get }).read("rt")); // 4 Backends
  }
  assert.equal(new Set(tokens).size, 4);
  for (const t of tokens) assert.equal(await verifier.verify(t, "GET", "/v1/workers"), true);
  assert.equal(verifier.cachedReads, 2);
  for (const t of tokens) assert.equal(await verifier.verify(t, "GET", "/v1/workers"), true);
  assert.equal(verifier.cachedReads, 2);
});

Deno.test("mutating tokens are not cached: each is single-use", async () => {
  const { minter, verifier } = await setup();
  const token = await minter.mint("rt", "POST", "/v1/workers");
  assert.equal(await verifier.verify(token, "POST", "/v1/workers"), true);
  assert.equal(verifier.cachedReads, 0);
  assert.equal(await verifier.verify(token, "POST", "/v1/workers"), false, "replay refused");
});

Deno.test("pathWithQuery: what URL.pathname + URL.search give, without parsing the URL", () => {
  for (
    const u of [
      "http://127.0.0.1:8790/v1/workers",
      "http://127.0.0.1:8790/v1/workers/abc/transcript?after=3&limit=10",
      "http://[::1]:8790/v1/runtime",
      "http://h/",
      "http://h/a?",
      "http://h/a#frag",
      "http://h/a%20b?x=%2F",
    ]
  ) {
    const url = new URL(u);
    assert.equal(pathWithQuery(url.href), url.pathname + url.search, u);
  }
});

Deno.test("claims are checked as strictly as jwtVerify would: every wrong form is refused", async () => {
  const { key, verifier, clock } = await setup();
  const now = clock.get();
  const header = { alg: "Ed25519", typ: "yoi-cap+jwt", kid: key.kid };
  const good = {
    htm: "POST",
    htu: "/v1/workers",
    iss: key.kid,
    aud: "rt",
    iat: now,
    exp: now + 60,
    jti: "j-1",
  };
  const sign = (payload: unknown, h: Record<string, unknown> = header) =>
    new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
      .setProtectedHeader(h as { alg: string }).sign(key.privateKey);
  const post = (t: string) => verifier.verify(t, "POST", "/v1/workers");
  assert.equal(await post(await sign(good)), true);
  assert.equal(await post(await sign({ ...good, jti: "j-2", aud: ["x", "rt"] })), true);
  const refused: [string, Promise<string>][] = [
    ["another typ", sign({ ...good, jti: "a" }, { ...header, typ: "JWT" })],
    ["no typ", sign({ ...good, jti: "b" }, { alg: "Ed25519", kid: key.kid })],
    ["another kid", sign({ ...good, jti: "b2" }, { ...header, kid: "someone-else" })],
    ["no kid", sign({ ...good, jti: "b3" }, { alg: "Ed25519", typ: "yoi-cap+jwt" })],
    ["another issuer", sign({ ...good, jti: "c", iss: "someone" })],
    ["another audience", sign({ ...good, jti: "d", aud: ["x", "y"] })],
    ["no iat", sign({ ...good, jti: "e", iat: undefined })],
    ["no exp", sign({ ...good, jti: "f", exp: undefined })],
    ["iat as text", sign({ ...good, jti: "g", iat: String(now) })],
    ["expired", sign({ ...good, jti: "h", iat: now - 100, exp: now - 40 })],
    ["not yet valid", sign({ ...good, jti: "i", nbf: now + 100 })],
    ["no jti", sign({ ...good, jti: undefined })],
    ["life over 60 s", sign({ ...good, jti: "k", exp: now + 61 })],
    ["issued in the future", sign({ ...good, jti: "l", iat: now + 31, exp: now + 61 })],
    ["not an object", sign([good])],
  ];
  for (const [why, token] of refused) assert.equal(await post(await token), false, why);
});

Deno.test("replay cache: expired entries leave it, a cache full of live ones fails closed", async () => {
  const dir = await Deno.makeTempDir({ prefix: "yoi-cap-unit-" });
  const key = await loadOrCreateBackendKey(dir);
  await Deno.remove(dir, { recursive: true });
  let now = 1_800_000_000;
  const minter = new CapabilityMinter(key, { now: () => now });
  const verifier = new CapabilityVerifier("rt", [await loadTrustKey(key.publicKey)], {
    now: () => now,
    replayCacheMax: 3,
  });
  const post = async (i: number) =>
    await verifier.verify(await minter.mint("rt", "POST", `/v1/w/${i}`), "POST", `/v1/w/${i}`);
  for (let i = 0; i < 3; i++) assert.equal(await post(i), true);
  assert.equal(await post(3), false, "three live jtis held: a fourth is refused");
  now += 60 + CAPABILITY_SKEW_SEC + 1; // the first three expired (and would be refused anyway)
  for (let i = 4; i < 7; i++) assert.equal(await post(i), true, `after expiry ${i}`);
});
