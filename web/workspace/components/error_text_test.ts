import assert from "node:assert/strict";
import { errorSentence } from "./error_text.ts";

Deno.test("each error code the console meets has its own sentence; invalid_id is not 'unreachable'", () => {
  const codes = [
    "invalid_id",
    "worker_not_found",
    "runtime_not_found",
    "worker_busy",
    "worker_stopped",
    "remote_runtime_unavailable",
    "remote_runtime_timeout",
    "remote_runtime_auth_failed",
  ];
  const said = codes.map((c) => errorSentence(c, "build-box"));
  assert.equal(new Set(said).size, codes.length, said.join(" | "));
  assert.doesNotMatch(errorSentence("invalid_id", "build-box"), /reach/);
  assert.equal(
    errorSentence("remote_runtime_unavailable", "build-box"),
    "Runtime build-box is unreachable.",
  );
  assert.equal(errorSentence("no_such_code", "x"), "That did not succeed.");
});
