import assert from "node:assert/strict";
import { bearerToken } from "./http.ts";

Deno.test("bearerToken: one rule for the Runtime and the Backend (scheme case-insensitive)", () => {
  assert.equal(bearerToken("Bearer abc"), "abc");
  assert.equal(bearerToken("bearer abc"), "abc", "the scheme is case-insensitive");
  assert.equal(bearerToken("BEARER\tabc "), "abc", "tab separator, trailing space");
  assert.equal(bearerToken("  Bearer   abc"), "abc");
  for (
    const bad of [null, undefined, "", "Bearer", "Bearer ", "Basic abc", "Bearerabc", "Bearer a b"]
  ) {
    assert.equal(bearerToken(bad), null, String(bad));
  }
});
