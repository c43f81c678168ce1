import assert from "node:assert/strict";
import { concatBytes } from "./bytes.ts";

Deno.test("concatBytes joins parts in order and returns a single part as is", () => {
  const a = new Uint8Array([1, 2]), b = new Uint8Array([]), c = new Uint8Array([3]);
  assert.deepEqual([...concatBytes([a, b, c])], [1, 2, 3]);
  assert.equal(concatBytes([a]), a);
  assert.equal(concatBytes([]).byteLength, 0);
  // A view into a larger buffer contributes only its own bytes.
  const view = new Uint8Array([9, 4, 5, 9]).subarray(1, 3);
  assert.deepEqual([...concatBytes([view, c])], [4, 5, 3]);
});
