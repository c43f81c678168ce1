import assert from "node:assert/strict";
import { readCookie, safeNext } from "./session_cookie.ts";

Deno.test("safeNext keeps redirects on this origin; readCookie finds one cookie", () => {
  assert.equal(safeNext("/workers?x=1"), "/workers?x=1");
  for (const bad of ["//evil.example/", "https://evil.example/", "/\\evil", "", 3, "/a\nb"]) {
    assert.equal(safeNext(bad), "/settings", String(bad));
  }
  assert.equal(readCookie("a=1; yoi_session=abc; b=2", "yoi_session"), "abc");
  assert.equal(readCookie(null, "yoi_session"), undefined);
});
