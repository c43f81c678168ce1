import assert from "node:assert/strict";
import { formatPublicKey } from "../shared/capability.ts";
import { readTrustFile, trustAdd, TrustError, trustList, trustRevoke } from "./trust_store.ts";

/** A fresh Ed25519 public key in the form `--trust-key` takes (the runtime never mints keys). */
async function newPublicKey(): Promise<string> {
  const pair = await crypto.subtle.generateKey("Ed25519", true, ["sign", "verify"]);
  const jwk = await crypto.subtle.exportKey("jwk", (pair as CryptoKeyPair).publicKey);
  return formatPublicKey(jwk.x!);
}

const refused = (fn: () => Promise<unknown>, re: RegExp) =>
  assert.rejects(fn, (e) => e instanceof TrustError && re.test(e.message));

Deno.test("trust store: add, --replace guard, revoke with history, revoked never re-trusted, 0600", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const keys: string[] = [];
    for (let i = 0; i < 2; i++) keys.push(await newPublicKey());
    const path = `${dir}/data/trusted-keys.json`;
    assert.match(await trustAdd(path, keys[0]), /^trusted /);
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    assert.match(await trustAdd(path, keys[0]), /already trusted/);
    await refused(() => trustAdd(path, keys[1]), /--replace/);
    await refused(() => trustAdd(path, "ed25519:short"), /ed25519/);
    assert.match(await trustAdd(path, keys[1], { replace: true }), /replaced and revoked/);
    let v = await readTrustFile(path);
    assert.deepEqual(v.keys.map((k) => k.key), [keys[1]]);
    assert.deepEqual(v.revoked.map((r) => [r.key, r.reason]), [[keys[0], "replaced"]]);
    await refused(() => trustAdd(path, keys[0], { name: "old" }), /revoked/);
    assert.match(await trustRevoke(path, "backend"), /^revoked /);
    await refused(() => trustRevoke(path, "backend"), /no trusted key/);
    v = await readTrustFile(path);
    assert.equal(v.keys.length, 0);
    assert.equal(v.revoked.length, 2);
    assert.match(await trustList(path), /trusted:\n {2}\(none\)\nrevoked:\n/);
    await Deno.chmod(path, 0o644);
    await refused(() => readTrustFile(path), /chmod 600/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
