import assert from "node:assert/strict";
import { ApiError } from "../../shared/mod.ts";
import {
  assertTokenRefAllowed,
  isTokenRef,
  resolveTokenRef,
  tokenRefProblem,
} from "./token_ref.ts";

const codeOf = (fn: () => unknown): string | null => {
  try {
    fn();
    return null;
  } catch (e) {
    return e instanceof ApiError ? e.code : "not an ApiError";
  }
};

Deno.test("token_ref shape: env:NAME or file:NAME", () => {
  for (const ok of ["env:YOI_RT", "env:HOME", "file:rt-token", "file:../x"]) {
    assert.ok(isTokenRef(ok), ok);
  }
  for (const bad of ["RT_TOKEN", "env:", "env:1X", "env:A B", "file:", "ENV:A", "file:a\nb"]) {
    assert.ok(!isTokenRef(bad), bad);
  }
});

Deno.test("token_ref policy: only YOI_ names, allow-listed names and plain secrets-folder files", () => {
  const policy = { envAllow: ["BUILD_BOX_TOKEN"] };
  for (
    const refused of [
      "env:HOME",
      "env:PATH",
      "env:AWS_SECRET_ACCESS_KEY",
      "env:YOI_", // the prefix alone names nothing of the operator's
      "file:../x",
      "file:/etc/passwd",
      "file:a/b",
      "file:..",
      "file:.",
    ]
  ) {
    assert.notEqual(tokenRefProblem(refused, policy), null, refused);
    assert.equal(codeOf(() => assertTokenRefAllowed(refused, policy)), "token_ref_not_allowed");
  }
  for (const ok of ["env:YOI_X", "env:BUILD_BOX_TOKEN", "file:rt-token"]) {
    assert.equal(tokenRefProblem(ok, policy), null, ok);
  }
  // Not allow-listed without the policy.
  assert.notEqual(tokenRefProblem("env:BUILD_BOX_TOKEN"), null);
  assert.equal(codeOf(() => assertTokenRefAllowed("TOKEN")), "invalid_token_ref");
});

Deno.test("resolveTokenRef: a refused ref is never read; unset or empty fails closed", () => {
  let read = 0;
  const env = (n: string) => {
    read++;
    return ({ YOI_SET: "s3cret", YOI_EMPTY: "", HOME: "/home/x" } as Record<string, string>)[n];
  };
  assert.equal(resolveTokenRef("env:YOI_SET", { env }).reveal(), "s3cret");
  assert.equal(String(resolveTokenRef("env:YOI_SET", { env })), "[redacted]");
  read = 0;
  assert.equal(codeOf(() => resolveTokenRef("env:HOME", { env })), "token_ref_not_allowed");
  assert.equal(read, 0, "the environment was read for a refused name");
  for (const ref of ["env:YOI_EMPTY", "env:YOI_UNSET"]) {
    assert.equal(codeOf(() => resolveTokenRef(ref, { env })), "token_ref_unresolved");
  }
});

Deno.test("resolveTokenRef file: 0600 file resolves; group/world-readable, symlink, missing refused", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const secretsDir = `${dir}/secrets`;
    await Deno.mkdir(secretsDir);
    await Deno.writeTextFile(`${secretsDir}/ok`, "tok-123\n", { mode: 0o600 });
    await Deno.chmod(`${secretsDir}/ok`, 0o600);
    await Deno.writeTextFile(`${secretsDir}/open`, "tok-open", { mode: 0o644 });
    await Deno.chmod(`${secretsDir}/open`, 0o644);
    await Deno.writeTextFile(`${dir}/outside`, "outside", { mode: 0o600 });
    await Deno.symlink(`${dir}/outside`, `${secretsDir}/link`);
    const policy = { secretsDir };
    assert.equal(resolveTokenRef("file:ok", policy).reveal(), "tok-123");
    assert.equal(codeOf(() => resolveTokenRef("file:open", policy)), "token_ref_not_allowed");
    assert.equal(codeOf(() => resolveTokenRef("file:link", policy)), "token_ref_unresolved");
    assert.equal(codeOf(() => resolveTokenRef("file:missing", policy)), "token_ref_unresolved");
    assert.equal(codeOf(() => resolveTokenRef("file:../outside", policy)), "token_ref_not_allowed");
    assert.equal(codeOf(() => resolveTokenRef("file:ok", {})), "token_ref_unresolved");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
