import assert from "node:assert/strict";
import { inputCeilingRow, tokenCosts } from "./input_ceiling.ts";
import type { ThroughputAnswer } from "./load.ts";

const direct = (runtimeUs: number, clientUs: number): ThroughputAnswer => ({
  requests: 1000,
  elapsed_ms: 100,
  rps: 10_000,
  bad: 0,
  client_cpu_us: clientUs,
  watched_cpu_us: { runtime: runtimeUs },
  reconnects: 0,
});

Deno.test("input ceiling: the runtime's thread bound when verify is on it", () => {
  const costs = { mint_us: 10, verify_us: 20, sign_bare_us: 8, verify_bare_us: 15 };
  // R 80 µs: direct bound 1/80 µs; through the Backend 1/(80+20) → 0.8×. The machine bound
  // (2 cores / (10+10+80+20+10) µs) is higher, so the thread decides.
  const r = inputCeilingRow([direct(80, 10)], costs, 10, 8, 2);
  assert.equal(r.id, "input.c8.ceiling_vs_direct");
  assert.ok(Math.abs(r.value - 0.8) < 1e-9, String(r.value));
  assert.equal(r.target, null);
  assert.equal(r.met, null);
  // Off the thread, the 2 cores decide: (2e6/130) / (1e6/80).
  assert.ok(Math.abs(r.values!.off_thread_ceiling - (2e6 / 130) / 12_500) < 1e-9);
});

Deno.test("input ceiling: one core — the machine bound decides", () => {
  const costs = { mint_us: 50, verify_us: 50, sign_bare_us: 40, verify_bare_us: 40 };
  // Direct: min(1/100, 1/(10+100)) = 1/110 µs. Via Backend: min(1/150, 1/(10+0+100+50+50)).
  const r = inputCeilingRow([direct(100, 10)], costs, NaN, 8, 1);
  assert.ok(Math.abs(r.value - 110 / 210) < 1e-9, String(r.value));
  assert.match(r.note!, /nginx skipped/);
});

Deno.test("input ceiling: token costs are measured through the project's mint and verify", async () => {
  const c = await tokenCosts(20);
  for (const v of Object.values(c)) assert.ok(Number.isFinite(v) && v > 0, JSON.stringify(c));
});
