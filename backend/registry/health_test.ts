import assert from "node:assert/strict";
import { HealthRecord, nextCheckDelay } from "./health.ts";

Deno.test("nextCheckDelay: ±20 % jitter; doubling per failure past the fifth, capped at 60 s", () => {
  const low = () => 0, high = () => 0.999999;
  for (let f = 0; f < 5; f++) {
    assert.equal(nextCheckDelay(1000, f, low), 800);
    assert.equal(nextCheckDelay(1000, f, high), 1200);
  }
  assert.equal(nextCheckDelay(1000, 5, low), 1600, "fifth failure in a row: twice the interval");
  assert.equal(nextCheckDelay(1000, 6, low), 3200);
  assert.equal(nextCheckDelay(1000, 40, low), 48_000, "capped at 60 s (−20 %)");
  assert.equal(nextCheckDelay(90_000, 40, low), 72_000, "an interval above the cap is kept");
});

Deno.test("HealthRecord: newest first, at most 20, failures counted in a row", () => {
  const h = new HealthRecord();
  h.record("unreachable", "remote_runtime_unavailable", null, true);
  assert.equal(h.failures, 1);
  h.record("unreachable", "remote_runtime_unavailable", null, false);
  assert.equal(h.failures, 2);
  assert.equal(h.lastOkAt, null);
  h.record("ready", null, 1.234, true);
  assert.equal(h.failures, 0);
  assert.equal(h.latencyMs, 1.2);
  assert.equal(h.lastOkAt, h.lastCheckedAt);
  assert.equal(h.history[0].state, "ready");
  for (let i = 0; i < 30; i++) h.record("ready", null, 1, false);
  assert.equal(h.history.length, 20);
});
