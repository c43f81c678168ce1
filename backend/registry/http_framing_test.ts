/** The response-head parser of the HTTP/1.1 client (the framing itself is exercised by
 * `http_pool_test.ts` against real and raw-socket servers). */
import assert from "node:assert/strict";
import { HttpPoolError, parseHead } from "./http_framing.ts";

Deno.test("parseHead: status line and headers, tolerant of spacing, strict about the form", () => {
  const h = parseHead(
    "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nX-A:  1 \r\nx-a: 2\r\nEmpty:",
  );
  assert.equal(h.status, 404);
  assert.equal(h.http11, true);
  assert.deepEqual([...h.headers], [["content-type", "application/json"], ["x-a", "1, 2"], [
    "empty",
    "",
  ]]);
  assert.equal(parseHead("HTTP/1.0 200").http11, false);
  assert.equal(parseHead("HTTP/1.1 204 ").status, 204);
  for (const bad of ["HTTP/2 200 OK", "HTTP/1.1 20 OK", "HTTP/1.1 2x0 OK", "HTTP/1.1 200OK", "x"]) {
    assert.throws(() => parseHead(bad), HttpPoolError, bad);
  }
  assert.throws(() => parseHead("HTTP/1.1 200 OK\r\nno colon here"), HttpPoolError);
});
