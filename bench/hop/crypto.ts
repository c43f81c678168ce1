/**
 * What one capability token costs (DESIGN §8, issue 15): CPU per operation of WebCrypto
 * Ed25519 sign and verify on their own, and of minting and verifying a whole token through
 * the project's code (`jose`). A mutating request pays one mint in the Backend and one
 * verify in the runtime; reads reuse a cached token on both sides.
 *
 *   deno run -A bench/hop/crypto.ts [N]
 * @module
 */
import { CapabilityMinter, loadOrCreateBackendKey } from "../../backend/registry/capability.ts";
import { CapabilityVerifier, loadTrustKey } from "../../runtime/capability.ts";

const N = Number(Deno.args[0] ?? 2000);
const dir = await Deno.makeTempDir();
const key = await loadOrCreateBackendKey(dir);
await Deno.remove(dir, { recursive: true });
const pub = (await loadTrustKey(key.publicKey)).key;
const minter = new CapabilityMinter(key);
const verifier = new CapabilityVerifier("a", [await loadTrustKey(key.publicKey)]);

/** CPU ms of this process (utime + stime, 10 ms ticks: N large enough to matter). */
function cpuMs(): number {
  const f = Deno.readTextFileSync("/proc/self/stat").split(" ");
  return (Number(f[13]) + Number(f[14])) * 10;
}

async function time(name: string, fn: (i: number) => Promise<unknown>) {
  for (let i = 0; i < Math.min(200, N); i++) await fn(i);
  const c0 = cpuMs(), t0 = performance.now();
  for (let i = 0; i < N; i++) await fn(i);
  const cpu = (cpuMs() - c0) * 1000 / N, wall = (performance.now() - t0) * 1000 / N;
  console.log(`| ${name} | ${cpu.toFixed(0)} | ${wall.toFixed(0)} |`);
}

const data = new TextEncoder().encode("x".repeat(300));
const sig = await crypto.subtle.sign("Ed25519", key.privateKey, data);
const tokens: string[] = [];
for (let i = 0; i < N + 200; i++) {
  tokens.push(await minter.mint("a", "POST", `/v1/workers/w${i}/input`));
}
let k = 0;
console.log(`| operation (N=${N}) | CPU µs/op | wall µs/op |\n|---|---|---|`);
await time("WebCrypto Ed25519 sign", () => crypto.subtle.sign("Ed25519", key.privateKey, data));
await time("WebCrypto Ed25519 verify", () => crypto.subtle.verify("Ed25519", pub, sig, data));
await time("mint a mutating token (Backend)", (i) => minter.mint("a", "POST", `/v1/p/${i}`));
await time("verify a mutating token (runtime)", async () => {
  const i = k++;
  if (!await verifier.verify(tokens[i], "POST", `/v1/workers/w${i}/input`)) {
    throw new Error("refused");
  }
});
const read = await minter.read("a");
await time(
  "verify a reused read token (runtime, cached)",
  () => verifier.verify(read, "GET", "/v1/workers"),
);
