/**
 * The one validation of connection input: every typed diagnostic of an add, an edit and a
 * candidate, and the same rules applied to entries read from the config file.
 * @module
 */
import assert from "node:assert/strict";
import { ApiError } from "../../shared/mod.ts";
import {
  validateCandidate,
  validateConfigEntry,
  validateConnectionEdit,
  validateNewConnection,
} from "./connection_input.ts";
import type { TokenRefPolicy } from "./token_ref.ts";

// ---- validateNewConnection ----

function rejects(
  body: unknown,
  code: string,
  also?: (e: ApiError) => void,
  policy?: TokenRefPolicy,
) {
  let err: unknown;
  try {
    validateNewConnection(body, policy);
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof ApiError, `expected ${code} for ${JSON.stringify(body)}`);
  assert.equal(err.code, code, `${JSON.stringify(body)}: ${err.message}`);
  also?.(err);
}

const OK = { id: "good", endpoint: "http://127.0.0.1:8790" };

Deno.test("validateNewConnection: accepts a valid entry and normalises it", () => {
  assert.deepEqual(validateNewConnection(OK), OK);
  assert.deepEqual(
    validateNewConnection({
      id: "a-b_c9",
      endpoint: " https://rt.example:8443/prefix ",
      display_name: "  Build box  ",
      token_ref: "env:YOI_RT_TOKEN",
    }),
    {
      id: "a-b_c9",
      endpoint: "https://rt.example:8443/prefix",
      display_name: "Build box",
      token_ref: "env:YOI_RT_TOKEN",
    },
  );
  // Empty optional fields are dropped rather than stored.
  assert.deepEqual(validateNewConnection({ ...OK, display_name: "", token_ref: "" }), OK);
  assert.deepEqual(validateNewConnection({ ...OK, display_name: "x".repeat(80) }), {
    ...OK,
    display_name: "x".repeat(80),
  });
});

Deno.test("validateNewConnection: ids", () => {
  for (const id of ["", "Upper", "-lead", "_lead", "has space", "a/b", "../x", "a".repeat(64), 7]) {
    rejects({ ...OK, id }, "invalid_id");
  }
  rejects({ endpoint: OK.endpoint }, "invalid_id");
  rejects({ ...OK, id: "embedded" }, "duplicate_runtime_id");
});

Deno.test("validateNewConnection: endpoints", () => {
  const cases: [string, RegExp][] = [
    ["ftp://127.0.0.1:8790", /scheme/],
    ["http://user:secret-pw@127.0.0.1:8790", /credentials/],
    ["http://user@127.0.0.1:8790", /credentials/],
    ["http://127.0.0.1:8790/?a=1", /query/],
    ["http://127.0.0.1:8790/?", /query/],
    ["http://127.0.0.1:8790/#frag", /fragment/],
    ["http://127.0.0.1:8790/#", /fragment/],
    ["http://", /absolute/],
    ["http://:8790", /absolute/],
    ["/v1/runtime", /absolute/],
    ["127.0.0.1:8790", /absolute/],
    ["localhost:8790", /scheme/],
    ["", /absolute/],
    ["file:///etc/passwd", /scheme|host/],
  ];
  for (const [endpoint, why] of cases) {
    rejects({ ...OK, endpoint }, "invalid_endpoint", (e) => {
      assert.match(e.message, why, endpoint);
      assert.ok(!e.message.includes("secret-pw"), "never echoes credentials");
    });
  }
  rejects({ id: "good" }, "invalid_endpoint");
  rejects({ ...OK, endpoint: 42 }, "invalid_endpoint");
});

Deno.test("validateNewConnection: display names", () => {
  rejects({ ...OK, display_name: "x".repeat(81) }, "invalid_display_name", (e) => {
    assert.match(e.message, /80/);
  });
  for (const bad of ["bell\u0007", "new\nline", "tab\there", "del\u007f", "c1\u0085"]) {
    rejects({ ...OK, display_name: bad }, "invalid_display_name", (e) => {
      assert.match(e.message, /control/);
    });
  }
  rejects({ ...OK, display_name: 5 }, "invalid_display_name");
});

Deno.test("validateNewConnection: raw token fields are refused without echoing them", () => {
  for (const field of ["token", "bearer_token", "Token", "BEARER_TOKEN"]) {
    rejects({ ...OK, [field]: "canary-secret-91c2" }, "raw_token_rejected", (e) => {
      assert.ok(!e.message.includes("canary-secret-91c2"));
      assert.ok(!JSON.stringify(e.toBody()).includes("canary-secret-91c2"));
    });
  }
  // Refused even when everything else is also wrong: it is checked first.
  rejects({ id: "BAD", endpoint: "ftp://x", token: "t" }, "raw_token_rejected");
});

Deno.test("validateNewConnection: malformed token_ref", () => {
  for (
    const token_ref of ["TOKEN", "env:", "env:1X", "file:", "env:A-B", "env:A B", "ENV:A", 3]
  ) {
    rejects({ ...OK, token_ref }, "invalid_token_ref", (e) => {
      assert.match(e.message, /env:NAME/);
    });
  }
});

Deno.test("add, edit and candidate refuse a token_ref the policy does not allow (token_ref_not_allowed)", () => {
  const policy = { envAllow: ["BUILD_BOX_TOKEN"] };
  for (
    const token_ref of ["env:HOME", "env:PATH", "env:AWS_SECRET_ACCESS_KEY", "file:../x", "file:/x"]
  ) {
    rejects({ ...OK, token_ref }, "token_ref_not_allowed", undefined, policy);
    assert.throws(
      () => validateCandidate({ id: "c", endpoint: OK.endpoint, token_ref }, policy),
      (e) => e instanceof ApiError && e.code === "token_ref_not_allowed",
    );
    assert.throws(
      () => validateConnectionEdit({ token_ref }, { id: "c", endpoint: OK.endpoint }, policy),
      (e) => e instanceof ApiError && e.code === "token_ref_not_allowed",
    );
  }
  for (const token_ref of ["env:YOI_X", "env:BUILD_BOX_TOKEN", "file:rt-token"]) {
    assert.equal(validateNewConnection({ ...OK, token_ref }, policy).token_ref, token_ref);
  }
});

Deno.test("validateNewConnection: every problem is a diagnostic; the first is the error", () => {
  rejects(
    { id: "Bad Id", endpoint: "ftp://x", display_name: "x".repeat(81), token_ref: "TOKEN" },
    "invalid_id",
    (e) => {
      assert.deepEqual(e.diagnostics.map((d) => d.code), [
        "invalid_id",
        "invalid_endpoint",
        "invalid_display_name",
        "invalid_token_ref",
      ]);
      assert.ok(e.diagnostics.every((d) => d.severity === "error"));
    },
  );
  rejects({ ...OK, extra: 1 }, "invalid_request");
  for (const body of [null, [], "x", 1]) rejects(body, "invalid_request");
});

Deno.test("one rule for the request and the file: what add accepts, config load reads, and the other way round", () => {
  const cases: Record<string, unknown>[] = [
    OK,
    { ...OK, display_name: "😀".repeat(80) }, // 80 characters, 160 UTF-16 units
    { ...OK, display_name: "😀".repeat(81) },
    { ...OK, display_name: "tab\there" },
    { ...OK, display_name: "\u202eevil" },
    { ...OK, token_ref: "env:YOI_X" },
    { ...OK, token_ref: "TOKEN" },
    { ...OK, token_ref: "env:HOME" }, // shape fine; the policy is applied live, not at load
    { ...OK, id: "Bad Id" },
    { ...OK, id: "embedded" },
    { ...OK, endpoint: "ftp://x" },
    { ...OK, endpoint: "http://u:p@h:1" },
  ];
  for (const body of cases) {
    let add: string | null = null;
    try {
      validateNewConnection(body, { envAllow: ["HOME"] });
    } catch (e) {
      add = (e as ApiError).code;
    }
    const load = validateConfigEntry(body);
    assert.equal(load.problems?.[0].code ?? null, add, JSON.stringify(body));
    if (!add) assert.deepEqual(load.entry, validateNewConnection(body, { envAllow: ["HOME"] }));
  }
  // A file may carry keys of later versions; "" means "none" there too.
  const r = validateConfigEntry({ ...OK, region: "eu", display_name: "", token_ref: "" });
  assert.deepEqual(r.entry, OK);
  assert.equal(validateConfigEntry([1]).problems?.[0].code, "invalid_request");
});
