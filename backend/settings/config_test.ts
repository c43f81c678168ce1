import assert from "node:assert/strict";
import { loadBackendConfig, parseBackendConfig } from "./config.ts";
import { endpointProblem } from "./connection_input.ts";

Deno.test("config: remotes, listen and allowed hosts are read; bad entries are skipped with a diagnostic each", () => {
  const cfg = parseBackendConfig(`
[server]
listen = "127.0.0.1:9000"
allowed_hosts = ["ws.example"]

[[runtimes.remote]]
id = "good"
endpoint = "http://127.0.0.1:8790"
token_ref = "env:YOI_GOOD_TOKEN"

[[runtimes.remote]]
id = "Bad Id"
endpoint = "http://127.0.0.1:8791"

[[runtimes.remote]]
id = "creds"
endpoint = "http://user:pw@127.0.0.1:8792"

[[runtimes.remote]]
id = "good"
endpoint = "http://127.0.0.1:8793"

[[runtimes.remote]]
id = "embedded"
endpoint = "http://127.0.0.1:8794"
`);
  assert.equal(cfg.parsed, true);
  assert.equal(cfg.listen, "127.0.0.1:9000");
  assert.deepEqual(cfg.allowedHosts, ["ws.example"]);
  assert.deepEqual(cfg.remotes.map((r) => r.id), ["good"]);
  assert.deepEqual(cfg.diagnostics.map((d) => d.code), [
    "invalid_request",
    "invalid_endpoint",
    "duplicate_runtime_id",
    "duplicate_runtime_id",
  ]);
  assert.ok(!JSON.stringify(cfg.diagnostics).includes("pw@"), "credentials are not echoed");
});

Deno.test("config: an unparsable file is reported by line and column, never by path or content", () => {
  const cfg = parseBackendConfig(
    '[server]\nlisten = "127.0.0.1:8787"\n[[runtimes.remote]]\nid = "x\n',
  );
  assert.equal(cfg.parsed, false);
  assert.equal(cfg.remotes.length, 0);
  assert.equal(cfg.diagnostics[0].code, "config_unparsable");
  assert.equal(cfg.diagnostics[0].line, 4);
  assert.ok(typeof cfg.diagnostics[0].column === "number");
});

Deno.test("config: a missing file means embedded only", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cfg = await loadBackendConfig(`${dir}/nope.toml`);
    assert.equal(cfg.parsed, true);
    assert.deepEqual(cfg.remotes, []);
    assert.deepEqual(cfg.diagnostics, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("endpoint rule: absolute http(s) with a host, no userinfo, query or fragment", () => {
  assert.equal(endpointProblem("http://127.0.0.1:8790"), null);
  assert.equal(endpointProblem("https://runtime.example/base/"), null);
  for (
    const bad of [
      "ftp://h",
      "127.0.0.1:8790",
      "/v1",
      "http://u@h",
      "http://h/?q=1",
      "http://h/#f",
      "http://h/?",
    ]
  ) {
    assert.notEqual(endpointProblem(bad), null, bad);
  }
});

Deno.test("config: [server] token_env_allow is read; a malformed one is ignored with a diagnostic", () => {
  const ok = parseBackendConfig('[server]\ntoken_env_allow = ["BUILD_TOKEN"]\n');
  assert.deepEqual(ok.tokenEnvAllow, ["BUILD_TOKEN"]);
  const bad = parseBackendConfig('[server]\ntoken_env_allow = ["A B"]\n');
  assert.deepEqual(bad.tokenEnvAllow, []);
  assert.equal(bad.diagnostics[0].code, "invalid_request");
});

Deno.test("config: an entry whose token_ref the policy refuses is kept (it becomes unconfigured live)", () => {
  const cfg = parseBackendConfig(
    '[[runtimes.remote]]\nid = "x"\nendpoint = "http://127.0.0.1:1"\ntoken_ref = "env:HOME"\n',
  );
  assert.equal(cfg.remotes.length, 1);
  assert.equal(cfg.remotes[0].token_ref, "env:HOME");
});

Deno.test("config: an entry add accepts is read back (80 astral characters), int64 extremes parse", () => {
  const name = "😀".repeat(80);
  const cfg = parseBackendConfig(
    `max = 9223372036854775807\nmin = -9223372036854775808\n[[runtimes.remote]]\n` +
      `id = "wide"\nendpoint = "http://127.0.0.1:1"\ndisplay_name = "${name}"\ntoken_ref = ""\n`,
  );
  assert.equal(cfg.parsed, true);
  assert.deepEqual(cfg.diagnostics, []);
  assert.deepEqual(cfg.remotes, [
    { id: "wide", endpoint: "http://127.0.0.1:1", display_name: name },
  ]);
});

Deno.test("config: runtimes.remote as one table is reported with its line, not ignored silently", () => {
  const cfg = parseBackendConfig(
    `[server]\nlisten = "127.0.0.1:8787"\n\n[runtimes.remote]\nid = "a"\nendpoint = "http://h:1"\n`,
    "workspace-backend.local.toml",
  );
  assert.equal(cfg.parsed, true);
  assert.deepEqual(cfg.remotes, []);
  assert.equal(cfg.diagnostics.length, 1);
  const d = cfg.diagnostics[0];
  assert.equal(d.code, "config_unsupported_shape");
  assert.equal(d.severity, "warning");
  assert.equal(d.line, 4);
  assert.equal(d.file, "workspace-backend.local.toml");
  assert.match(d.message, /single table.*line 4/);
});
