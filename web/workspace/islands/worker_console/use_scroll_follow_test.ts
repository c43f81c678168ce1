import assert from "node:assert/strict";
import { isAtBottom, shouldFollow } from "./use_scroll_follow.ts";

Deno.test("isAtBottom: within 8 px of the end", () => {
  assert.equal(isAtBottom(1000, 600, 400), true);
  assert.equal(isAtBottom(1000, 593, 400), true);
  assert.equal(isAtBottom(1000, 592, 400), false);
});

Deno.test("shouldFollow: only a reader at the bottom who has not scrolled up since", () => {
  assert.equal(shouldFollow(true, 600, 600), true);
  assert.equal(shouldFollow(true, 592, 600), true, "within the slack");
  assert.equal(shouldFollow(true, 591, 600), false, "scrolled up before the scroll event came");
  assert.equal(shouldFollow(false, 600, 600), false);
  assert.equal(shouldFollow(true, 0, 0), true, "after the reader's own input");
});
