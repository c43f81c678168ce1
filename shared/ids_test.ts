import assert from "node:assert/strict";
import { isWorkerId, newWorkerId } from "./ids.ts";

Deno.test("worker ids stay unique, valid and in creation order at any rate", () => {
  // 100,000 ids in one millisecond (the clock is frozen), then in a tight loop:
  // far past 4,096 per ms, where a 12-bit counter wraps and order breaks.
  const n = 200_000;
  const ids: string[] = new Array(n);
  const realNow = Date.now;
  const frozen = realNow() + 60_000; // ahead of the real clock, as a burst pushes it
  Date.now = () => frozen;
  try {
    for (let i = 0; i < n / 2; i++) ids[i] = newWorkerId();
  } finally {
    Date.now = realNow;
  }
  for (let i = n / 2; i < n; i++) ids[i] = newWorkerId();
  for (let i = 1; i < n; i++) {
    if (!(ids[i - 1] < ids[i])) assert.fail(`id ${i} does not sort after id ${i - 1}`);
  }
  assert.equal(new Set(ids).size, n);
  assert.ok(ids.every(isWorkerId));
});
