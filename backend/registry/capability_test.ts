import assert from "node:assert/strict";
import { CapabilityMinter, loadOrCreateBackendKey } from "./capability.ts";
import { CapabilityVerifier, loadTrustKey } from "../../runtime/capability.ts";

Deno.test("backend key: created 0600 once, reused, refused when group/world-accessible", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const a = await loadOrCreateBackendKey(dir);
    const b = await loadOrCreateBackendKey(dir);
    assert.equal(a.publicKey, b.publicKey);
    assert.equal((await Deno.stat(`${dir}/backend-key`)).mode! & 0o777, 0o600);
    assert.ok(!Deno.inspect(a).includes("privateKey") && !JSON.stringify(a).includes('"d"'));
    await Deno.chmod(`${dir}/backend-key`, 0o644);
    await assert.rejects(() => loadOrCreateBackendKey(dir), /chmod 600/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("minter: one read token per runtime reused until near expiry (reads never sign per request)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    let now = 1_800_000_000;
    const m = new CapabilityMinter(await loadOrCreateBackendKey(dir), { now: () => now });
    const t1 = await m.read("rt");
    assert.equal(await m.read("rt"), t1);
    assert.notEqual(await m.read("other"), t1, "per runtime");
    now += 45; // less than 20 s of life left: renewed
    assert.notEqual(await m.read("rt"), t1);
    assert.notEqual(
      await m.mint("rt", "POST", "/v1/workers"),
      await m.mint("rt", "POST", "/v1/workers"),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("verifier: the replay cache is bounded, fails closed when full, and forgets expired jtis", async () => {
  const dir = await Deno.makeTempDir();
  try {
    let now = 1_800_000_000;
    const key = await loadOrCreateBackendKey(dir);
    const m = new CapabilityMinter(key, { now: () => now });
    const v = new CapabilityVerifier("rt", [await loadTrustKey(key.publicKey)], {
      now: () => now,
      replayCacheMax: 2,
    });
    const mint = () => m.mint("rt", "POST", "/v1/workers");
    assert.ok(await v.verify(await mint(), "POST", "/v1/workers"));
    assert.ok(await v.verify(await mint(), "POST", "/v1/workers"));
    const third = await mint();
    assert.ok(!(await v.verify(third, "POST", "/v1/workers")), "full of live jtis: refused");
    now += 100; // the first two expired (60 s + 30 s skew)
    assert.ok(await v.verify(await mint(), "POST", "/v1/workers"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
