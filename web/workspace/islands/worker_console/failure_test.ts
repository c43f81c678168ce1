import assert from "node:assert/strict";
import { ApiClientError } from "../../../../shared/browser_client.ts";
import { explain, failure, failureTitle, loadSentences } from "./failure.ts";

const apiError = (
  status: number,
  code: "worker_busy" | "remote_runtime_unavailable",
  message: string,
) => new ApiClientError(status, { error: { code, message }, diagnostics: [] });

Deno.test("failure: an API error keeps code, message and status; anything else is unexpected", () => {
  assert.deepEqual(failure(apiError(409, "worker_busy", "busy")), {
    message: "busy",
    code: "worker_busy",
    status: 409,
  });
  assert.deepEqual(failure(new TypeError("boom")), { message: "The request failed unexpectedly." });
  assert.deepEqual(failure("nope"), { message: "The request failed unexpectedly." });
});

// One test: the sentences are module state, loaded once.
Deno.test("failureTitle: generic until the sentences load, then the code's; no answer is named", async () => {
  const busy = failure(apiError(409, "worker_busy", "busy"));
  assert.equal(failureTitle(busy, "box"), "That did not succeed.");
  assert.equal(
    failureTitle({ message: "fetch failed", status: 0 }, "box"),
    "The Backend could not be reached.",
  );
  await loadSentences();
  assert.equal(failureTitle(busy, "box"), "The worker is busy with a turn.");
  assert.equal(failureTitle({ message: "x" }, "box"), "That did not succeed.");
  assert.equal(
    await explain(apiError(502, "remote_runtime_unavailable", "connection refused"), "box"),
    "Runtime box is unreachable. connection refused",
  );
});
