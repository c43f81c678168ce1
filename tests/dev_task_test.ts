/**
 * `deno task dev` (which runs the Backend under `deno run --watch`) leaves no
 * process behind on SIGTERM or Ctrl-C (DESIGN §11). Before, the watcher caught
 * the Backend's exit and kept itself and `deno task` running.
 * @module
 */
import assert from "node:assert/strict";
import { decodeText } from "../shared/deno_ws.ts";
import { liveInGroup } from "./support/procs.ts";
import { waitUntil } from "./support/wait.ts";

const ROOT = new URL("..", import.meta.url).pathname;

async function devStopsClean(how: "SIGTERM to deno task" | "Ctrl-C to the group") {
  const stateDir = await Deno.makeTempDir({ prefix: "dev_task_test_" });
  // setsid: the launcher gets its own process group (pgid = its pid), as a terminal gives it.
  const child = new Deno.Command("setsid", {
    args: [
      Deno.execPath(),
      "task",
      "dev",
      "--state-dir",
      stateDir,
      "--listen",
      "127.0.0.1:0",
      "--embedded-store",
      "memory",
    ],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const pgid = child.pid;
  const output: string[] = [];
  const pump = async (s: ReadableStream<Uint8Array>) => {
    for await (const t of decodeText(s)) output.push(t);
  };
  const done = Promise.all([pump(child.stdout), pump(child.stderr)]).catch(() => {});
  try {
    await waitUntil(
      "dev listening",
      () => /listening on http:\/\/127\.0\.0\.1:\d+/.test(output.join("")),
      60_000,
    );
    assert.ok(liveInGroup(pgid).length >= 2, "deno task and the watched Backend run in one group");
    if (how === "SIGTERM to deno task") Deno.kill(pgid, "SIGTERM");
    else Deno.kill(-pgid, "SIGINT");
    await child.status;
    await waitUntil(
      `no process left in the group after ${how}`,
      () => liveInGroup(pgid).length === 0,
      10_000,
    );
    assert.match(output.join(""), /stopping/);
  } finally {
    for (const pid of liveInGroup(pgid)) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch { /* gone */ }
    }
    await done;
    await Deno.remove(stateDir, { recursive: true }).catch(() => {});
  }
}

Deno.test({
  name: "deno task dev: SIGTERM leaves no process behind",
  ignore: Deno.build.os !== "linux",
  fn: () => devStopsClean("SIGTERM to deno task"),
});

Deno.test({
  name: "deno task dev: Ctrl-C (SIGINT to the group) leaves no process behind",
  ignore: Deno.build.os !== "linux",
  fn: () => devStopsClean("Ctrl-C to the group"),
});

Deno.test("deno task dev: --help / -h in any position, with or without --, prints the usage and exits 0", async () => {
  for (
    const args of [
      ["--", "--help"],
      ["--help"],
      ["-h"],
      ["--", "--listen", "127.0.0.1:0", "--help"],
    ]
  ) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["task", "dev", ...args],
      cwd: ROOT,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, `${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
    assert.match(text, /Usage: deno task dev/, args.join(" "));
    assert.match(text, /--health-interval-ms N/);
  }
  // An unknown flag ends it with exit 2 and the usage line (no watcher left waiting).
  const bad = await new Deno.Command(Deno.execPath(), {
    args: ["task", "dev", "--", "--bogus"],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(bad.code, 2);
  assert.match(new TextDecoder().decode(bad.stderr), /Unknown option '--bogus'[\s\S]*Usage:/);
});
