import assert from "node:assert/strict";
import { liveInGroup } from "../tests/support/procs.ts";
import { waitUntil } from "../tests/support/wait.ts";
import { resolveInside, runTool, type ToolOptions } from "./openai_tools.ts";

async function setup(extra: Partial<ToolOptions> = {}) {
  const base = await Deno.makeTempDir({ prefix: "openai_tools_test_" });
  const root = `${base}/ws`;
  await Deno.mkdir(root);
  await Deno.mkdir(`${base}/outside`);
  await Deno.writeTextFile(`${base}/outside/secret`, "outside");
  const opts: ToolOptions = {
    root,
    allow: ["echo", "sh", "cat"],
    commandTimeoutMs: 10_000,
    outputMaxBytes: 1024,
    killGraceMs: 200,
    ...extra,
  };
  return {
    base,
    root,
    opts,
    run: (name: string, args: unknown, signal = new AbortController().signal) =>
      runTool(name, JSON.stringify(args), opts, signal),
    [Symbol.asyncDispose]: () => Deno.remove(base, { recursive: true }),
  };
}

Deno.test("paths: .., absolute, NUL, symlink escapes and broken links are refused", async () => {
  await using t = await setup();
  await Deno.symlink(`${t.base}/outside`, `${t.root}/out`);
  await Deno.symlink(`${t.base}/outside/secret`, `${t.root}/secret-link`);
  await Deno.symlink(`${t.base}/nowhere`, `${t.root}/dangling`);
  await Deno.mkdir(`${t.root}/in`);
  await Deno.symlink(`${t.root}/in`, `${t.root}/inner-link`);
  for (const p of ["../x", "a/../../x", "/etc/passwd", "a\0b", "out/secret", "secret-link"]) {
    await assert.rejects(resolveInside(t.root, p), `${JSON.stringify(p)} is refused`);
  }
  // write_file through a dangling link would create a file outside.
  const w = await t.run("write_file", { path: "dangling", content: "x" });
  assert.equal(w.ok, false);
  await assert.rejects(Deno.stat(`${t.base}/nowhere`));
  // A link that stays inside is fine.
  assert.equal((await t.run("write_file", { path: "inner-link/f.txt", content: "ok" })).ok, true);
  assert.equal(await Deno.readTextFile(`${t.root}/in/f.txt`), "ok");
  // Messages never carry the absolute path.
  const r = await t.run("read_file", { path: "missing.txt" });
  assert.deepEqual(r, { ok: false, output: "error: not found" });
});

Deno.test("write_file creates parent folders inside; read_file and list_dir are capped", async () => {
  await using t = await setup({ outputMaxBytes: 16 });
  assert.equal(
    (await t.run("write_file", { path: "a/b/c.txt", content: "x".repeat(40) })).ok,
    true,
  );
  const r = await t.run("read_file", { path: "a/b/c.txt" });
  assert.equal(r.ok, true);
  assert.match(r.output, /^x{16}\n\[truncated: the file has 40 bytes\]$/);
  assert.deepEqual(await t.run("list_dir", { path: "a" }), { ok: true, output: "b/" });
  assert.equal((await t.run("read_file", { path: "a" })).ok, false);
  assert.equal((await t.run("read_file", "not an object")).ok, false);
  assert.equal((await t.run("write_file", { path: ".", content: "x" })).ok, false);
});

Deno.test("run_command: argv without a shell, refused programs, capped output", async () => {
  await using t = await setup({ outputMaxBytes: 64 });
  const echo = await t.run("run_command", { argv: ["echo", "$HOME;", "`id`"] });
  assert.deepEqual(echo, { ok: true, output: "exit code 0\nstdout:\n$HOME; `id`\n" });
  for (const argv of [["rm", "-rf", "."], ["/bin/echo", "x"], ["./echo"]]) {
    const r = await t.run("run_command", { argv });
    assert.equal(r.ok, false);
    assert.match(r.output, /not allowed/);
  }
  const big = await t.run("run_command", { argv: ["sh", "-c", "yes | head -c 100000"] });
  assert.equal(big.ok, false);
  assert.match(big.output, /\[output truncated at 64 bytes\]$/);
  const fail = await t.run("run_command", { argv: ["sh", "-c", "echo oops >&2; exit 3"] });
  assert.deepEqual(fail, { ok: false, output: "exit code 3\nstderr:\noops\n" });
});

Deno.test("run_command: timeout and cancel kill the whole process group", async () => {
  let pid = 0;
  await using t = await setup({ commandTimeoutMs: 300, onSpawn: (p) => (pid = p) });
  const timedOut = await t.run("run_command", { argv: ["sh", "-c", "sleep 30 & sleep 30"] });
  assert.equal(timedOut.ok, false);
  assert.match(timedOut.output, /^timed out after 300 ms/);
  await waitUntil("the timed-out group is gone", () => liveInGroup(pid).length === 0);

  t.opts.commandTimeoutMs = 30_000;
  const ac = new AbortController();
  const running = t.run("run_command", { argv: ["sh", "-c", "sleep 30 & sleep 30"] }, ac.signal);
  await waitUntil("both sleeps run", () => pid !== 0 && liveInGroup(pid).length >= 3);
  ac.abort();
  const r = await running;
  assert.equal(r.ok, false);
  assert.match(r.output, /^cancelled/);
  await waitUntil("the cancelled group is gone", () => liveInGroup(pid).length === 0);
});
