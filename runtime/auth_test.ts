/**
 * The runtime's auth middleware on a real Hono app (no network needed: requests go to
 * `app.fetch`): bearer or capability token, told apart by form, each checked once.
 */
import assert from "node:assert/strict";
import { Hono } from "hono";
import { CapabilityMinter, loadOrCreateBackendKey } from "../backend/registry/capability.ts";
import { bearerMatcher, looksLikeJws, runtimeAuth } from "./auth.ts";
import { CapabilityVerifier, loadTrustKey } from "./capability.ts";

async function keyPair() {
  const dir = await Deno.makeTempDir({ prefix: "yoi-auth-" });
  const key = await loadOrCreateBackendKey(dir);
  await Deno.remove(dir, { recursive: true });
  return key;
}

/** A verifier that counts its calls, so a test sees which check a request paid for. */
class CountingVerifier extends CapabilityVerifier {
  calls = 0;
  override verify(token: string, method: string, path: string): Promise<boolean> {
    this.calls++;
    return super.verify(token, method, path);
  }
}

function appWith(token?: string, trust?: CapabilityVerifier) {
  const app = new Hono();
  app.use("*", runtimeAuth(token, trust));
  app.all("*", (c) => c.text("ok"));
  return async (path: string, authorization?: string, method = "GET") => {
    const res = await app.fetch(
      new Request(`http://runtime.test${path}`, {
        method,
        headers: authorization ? { authorization } : {},
      }),
    );
    return res.status;
  };
}

Deno.test("auth: a bearer token, a capability token, or nothing — each on its own check", async () => {
  const key = await keyPair();
  const minter = new CapabilityMinter(key);
  const trust = new CountingVerifier("rt", [await loadTrustKey(key.publicKey)]);
  const call = appWith("static-secret-token", trust);

  assert.equal(await call("/v1/workers", "Bearer static-secret-token"), 200);
  assert.equal(await call("/v1/workers", "bearer static-secret-token"), 200);
  assert.equal(trust.calls, 0, "a bearer token is not sent to the signature check");
  assert.equal(await call("/v1/workers", "Bearer static-secret-tokem"), 401);
  assert.equal(await call("/v1/workers"), 401);
  assert.equal(await call("/v1/workers", "Basic abc"), 401);
  assert.equal(trust.calls, 0);

  assert.equal(await call("/v1/workers", `Bearer ${await minter.read("rt")}`), 200);
  assert.equal(trust.calls, 1);
  const path = "/v1/workers/abc/input";
  const post = await minter.mint("rt", "POST", path);
  assert.equal(await call(path, `Bearer ${post}`, "POST"), 200);
  assert.equal(await call(path, `Bearer ${post}`, "POST"), 401, "a replayed mutating token");
  assert.equal(
    await call(`${path}?x=1`, `Bearer ${await minter.mint("rt", "POST", path)}`, "POST"),
    401,
  );
});

Deno.test("auth: only trusted keys without a bearer token; a JWS-shaped bearer token still works", async () => {
  const key = await keyPair();
  const trustOnly = appWith(
    undefined,
    new CapabilityVerifier("rt", [await loadTrustKey(key.publicKey)]),
  );
  assert.equal(await trustOnly("/v1/runtime", "Bearer a.b.c"), 401);
  assert.equal(
    await trustOnly("/v1/runtime", `Bearer ${await new CapabilityMinter(key).read("rt")}`),
    200,
  );
  // A static token that happens to have the form of a JWS: tried as a capability token
  // first, then compared as the bearer token.
  const odd = appWith(
    "aaa.bbb.ccc",
    new CapabilityVerifier("rt", [await loadTrustKey(key.publicKey)]),
  );
  assert.equal(await odd("/v1/runtime", "Bearer aaa.bbb.ccc"), 200);
  assert.equal(await odd("/v1/runtime", "Bearer aaa.bbb.ccd"), 401);
});

Deno.test("auth: the form test and the constant-time matcher", () => {
  assert.equal(looksLikeJws("eyJh.eyJ0.c2ln"), true);
  for (const s of ["abc", "a.b", "a.b.c.d", "a.b.", "a b.c.d", "a.b.c=", ""]) {
    assert.equal(looksLikeJws(s), false, s);
  }
  const m = bearerMatcher("s3cret");
  assert.equal(m("s3cret"), true);
  for (const s of ["s3cre", "s3crett", "S3cret", ""]) assert.equal(m(s), false, s);
});
