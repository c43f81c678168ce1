/**
 * The best `input.c8.backend_vs_direct` this machine allows under DESIGN §8, from this run's
 * own figures (issue 15): every mutation through the Backend is signed there (Ed25519) and
 * verified by the runtime on its one event-loop thread, the thread that bounds the direct
 * baseline. Informational row `input.c8.ceiling_vs_direct`; the reasoning is in
 * `bench/README.md` ("The input floor").
 * @module
 */
import { cpuUsage } from "node:process";
import { CapabilityMinter, loadOrCreateBackendKey } from "../backend/registry/capability.ts";
import { CapabilityVerifier, loadTrustKey } from "../runtime/capability.ts";
import type { ThroughputAnswer } from "./load.ts";
import { fmtRatio, fmtUs, type Row, row } from "./report.ts";
import { median } from "./stats.ts";

/** CPU µs of one capability token's operations, through the project's code (jose). */
export interface TokenCosts {
  /** Minting a mutating token (the Backend, per mutation). */
  mint_us: number;
  /** Verifying it, replay check included (the runtime, per mutation). */
  verify_us: number;
  /** The bare WebCrypto Ed25519 sign and verify inside them. */
  sign_bare_us: number;
  verify_bare_us: number;
}

/** Times `n` of each operation in this process (CPU from `process.cpuUsage`, µs). */
export async function tokenCosts(n = 500): Promise<TokenCosts> {
  const dir = await Deno.makeTempDir({ prefix: "yoi-bench-key-" });
  try {
    const key = await loadOrCreateBackendKey(dir);
    const trusted = await loadTrustKey(key.publicKey);
    const minter = new CapabilityMinter(key);
    const verifier = new CapabilityVerifier("a", [trusted]);
    const path = (i: number) => `/v1/workers/0190aaaa-bbbb-7ccc-8ddd-${1e11 + i}/input`;
    const tokens: string[] = [];
    for (let i = 0; i < 2 * n; i++) tokens.push(await minter.mint("a", "POST", path(i)));
    const data = new TextEncoder().encode(tokens[0].slice(0, tokens[0].lastIndexOf(".")));
    const sig = await crypto.subtle.sign("Ed25519", key.privateKey, data);
    const time = async (f: (i: number) => Promise<unknown>) => {
      for (let i = 0; i < Math.min(100, n); i++) await f(i); // warm-up
      const t0 = cpuUsage();
      for (let i = 0; i < n; i++) await f(i);
      const t = cpuUsage(t0);
      return (t.user + t.system) / n;
    };
    let k = 0;
    return {
      mint_us: await time((i) => minter.mint("a", "POST", path(i))),
      verify_us: await time(async () => {
        const i = k++;
        if (!await verifier.verify(tokens[i], "POST", path(i))) throw new Error("token refused");
      }),
      sign_bare_us: await time(() => crypto.subtle.sign("Ed25519", key.privateKey, data)),
      verify_bare_us: await time(() => crypto.subtle.verify("Ed25519", trusted.key, sig, data)),
    };
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/**
 * Per round: the direct baseline is the runtime's thread at R µs per input (its CPU per input
 * in the direct window). Through the Backend that thread also verifies a token (V), so it
 * serves at most 1/(R+V); and the machine's cores must carry the client (K), the cheapest
 * proxy hop measured (nginx's CPU per GET, P), R, V and the Backend's mint (G): at most
 * cores/(K+P+R+V+G). The ceiling is the lower of the two ÷ the direct bound the same model
 * gives (min of 1/R and cores/(K+R)) — optimistic, since every other cost of the Backend is
 * left out and V, G are measured cache-hot.
 */
export function inputCeilingRow(
  direct: ThroughputAnswer[],
  costs: TokenCosts,
  nginxCpuUs: number,
  concurrency: number,
  cores = navigator.hardwareConcurrency || 1,
): Row {
  const hop = Number.isFinite(nginxCpuUs) ? nginxCpuUs : 0;
  const V = costs.verify_us, G = costs.mint_us;
  const parts = direct.map((d) => {
    const R = d.watched_cpu_us.runtime, K = d.client_cpu_us;
    // The same model's direct bound (not the measured req/s, which other load on the
    // machine can hold below it).
    const base = Math.min(1e6 / R, cores * 1e6 / (K + R));
    const thread = 1e6 / (R + V);
    const machine = cores * 1e6 / (K + hop + R + V + G);
    return { R, thread: thread / base, machine: machine / base };
  });
  const samples = parts.map((p) => Math.min(p.thread, p.machine));
  const R = median(parts.map((p) => p.R));
  const offThread = median(parts.map((p) => p.machine));
  return row({
    id: "input.c8.ceiling_vs_direct",
    scenario: "1 proxy",
    metric: `Best POST input ratio at c=${concurrency} this machine allows with a token per ` +
      "mutation (DESIGN §8), from this run's costs",
    value: median(samples),
    unit: "×",
    target: null,
    baseline: { name: "direct runtime CPU per input", value: R, unit: "µs" },
    samples,
    show: {
      baseline: `direct runtime ${fmtUs(R)}/input`,
      measured: fmtRatio(median(samples)),
      compare: `verify ${fmtUs(V)} + mint ${fmtUs(G)}`,
    },
    values: { ...costs, nginx_cpu_us: hop, cores, off_thread_ceiling: offThread },
    note: `the runtime's thread pays R ${fmtUs(R)} + verify ${fmtUs(V)} per input (bare ` +
      `Ed25519 verify ${fmtUs(costs.verify_bare_us)}, sign ${fmtUs(costs.sign_bare_us)}); ` +
      `even with verify moved off that thread, ${cores} cores carrying client, ` +
      `${Number.isFinite(nginxCpuUs) ? "an nginx-cheap hop" : "a free hop (nginx skipped)"}, ` +
      `runtime, verify and mint allow ${fmtRatio(offThread)}; 0.8× needs verify ≤ 0.25 × R ` +
      `(${fmtUs(R / 4)}) on the runtime's thread`,
  });
}
