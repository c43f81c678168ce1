import { liveInGroup } from "../tests/support/procs.ts";
import assert from "node:assert/strict";
import { CommandEngine, type CommandEngineOptions } from "./command_engine.ts";
import type { OutputChunk, TurnResult } from "./engine.ts";

interface Recorded {
  chunk: OutputChunk;
  at: number;
}

async function run(
  options: CommandEngineOptions,
  input = "",
  signal: AbortSignal = new AbortController().signal,
): Promise<{ result: TurnResult; chunks: Recorded[]; elapsed: number; pid?: number }> {
  const chunks: Recorded[] = [];
  let pid: number | undefined;
  const engine = new CommandEngine({ ...options, onSpawn: (p) => (pid = p) });
  const start = performance.now();
  const result = await engine.runTurn({
    input,
    signal,
    emit: (chunk) => {
      chunks.push({ chunk, at: performance.now() });
      return Promise.resolve();
    },
  });
  return { result, chunks, elapsed: performance.now() - start, pid };
}

function text(chunks: Recorded[], stream?: "stdout" | "stderr"): string {
  return chunks
    .filter((c) => stream === undefined || c.chunk.stream === stream)
    .map((c) => c.chunk.text)
    .join("");
}

/**
 * Asserts the group is empty. A SIGKILLed process closes its pipes an instant
 * before it turns into a zombie, so allow a few ms for that transition.
 */
async function assertGroupGone(pgid: number) {
  if (Deno.build.os !== "linux") return;
  for (let i = 0; i < 20 && liveInGroup(pgid).length > 0; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.deepEqual(liveInGroup(pgid), [], `processes left in group ${pgid}`);
}

Deno.test("streams stdout and stderr as they arrive, with stream names", async () => {
  const { result, chunks, pid } = await run({
    argv: ["sh", "-c", "echo a; sleep 0.2; echo b >&2; sleep 0.2; echo c"],
  });
  assert.deepEqual(result, { outcome: "completed", exit_code: 0 });
  assert.equal(text(chunks, "stdout"), "a\nc\n");
  assert.equal(text(chunks, "stderr"), "b\n");
  assert.ok(chunks.length >= 3);
  // "a" was emitted well before "c": output is streamed, not collected at exit.
  const a = chunks.find((c) => c.chunk.text.includes("a"))!;
  const c = chunks.find((c) => c.chunk.text.includes("c"))!;
  assert.ok(c.at - a.at >= 300, `a at ${a.at}, c at ${c.at}`);
  await assertGroupGone(pid!);
});

Deno.test("delivers the input on stdin", async () => {
  const input = "héllo ✓\nsecond line\n";
  const { result, chunks } = await run({ argv: ["cat"] }, input);
  assert.deepEqual(result, { outcome: "completed", exit_code: 0 });
  assert.equal(text(chunks, "stdout"), input);
});

Deno.test("a large input does not deadlock against the child's output", async () => {
  const input = "x".repeat(1 << 20);
  const { result, chunks } = await run({ argv: ["cat"] }, input);
  assert.equal(result.outcome, "completed");
  assert.equal(text(chunks, "stdout").length, input.length);
});

Deno.test("a child that does not read stdin still completes", async () => {
  const { result, chunks } = await run({ argv: ["echo", "ok"] }, "y".repeat(1 << 20));
  assert.deepEqual(result, { outcome: "completed", exit_code: 0 });
  assert.equal(text(chunks), "ok\n");
});

Deno.test("a multibyte character split across writes is decoded whole", async () => {
  const { result, chunks } = await run({
    argv: ["sh", "-c", "printf '\\342\\234'; sleep 0.1; printf '\\223\\n'"],
  });
  assert.equal(result.outcome, "completed");
  assert.equal(text(chunks, "stdout"), "✓\n");
  assert.ok(!chunks.some((c) => c.chunk.text.includes("\uFFFD")));
});

Deno.test("a nonzero exit fails the turn with the exit code", async () => {
  const { result } = await run({ argv: ["sh", "-c", "echo oops >&2; exit 3"] });
  assert.deepEqual(result, { outcome: "failed", reason: "exit code 3", exit_code: 3 });
});

Deno.test("death by signal fails the turn and names the signal", async () => {
  const { result } = await run({ argv: ["sh", "-c", "kill -KILL $$"] });
  assert.equal(result.outcome, "failed");
  assert.match((result as { reason: string }).reason, /SIGKILL/);
});

Deno.test("timeout terminates the group and fails the turn", async () => {
  const { result, elapsed, pid } = await run({
    argv: ["sh", "-c", "sleep 10 & sleep 10"],
    timeout_ms: 300,
  });
  assert.deepEqual(result, { outcome: "failed", reason: "turn timed out after 300 ms" });
  assert.ok(elapsed >= 250 && elapsed < 2500, `elapsed ${elapsed}`);
  await assertGroupGone(pid!);
});

Deno.test("timeout escalates to SIGKILL when SIGTERM is ignored", async () => {
  const { result, elapsed, pid } = await run({
    argv: ["sh", "-c", "trap '' TERM; sleep 10"],
    timeout_ms: 200,
    kill_grace_ms: 300,
  });
  assert.equal(result.outcome, "failed");
  assert.match((result as { reason: string }).reason, /timed out/);
  assert.ok(elapsed >= 450 && elapsed < 3000, `elapsed ${elapsed}`);
  await assertGroupGone(pid!);
});

Deno.test("cancel mid-turn terminates the whole process group", async () => {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), 300);
  const { result, elapsed, pid } = await run(
    { argv: ["sh", "-c", "sleep 100 & sleep 100 & echo started; wait"] },
    "",
    ac.signal,
  );
  clearTimeout(timer);
  assert.deepEqual(result, { outcome: "failed", reason: "cancelled" });
  assert.ok(elapsed < 3000, `elapsed ${elapsed}`);
  assert.ok(pid !== undefined);
  await assertGroupGone(pid);
});

Deno.test("an already aborted signal starts nothing", async () => {
  const ac = new AbortController();
  ac.abort();
  const { result, pid, chunks } = await run({ argv: ["echo", "never"] }, "", ac.signal);
  assert.deepEqual(result, { outcome: "failed", reason: "cancelled" });
  assert.equal(pid, undefined);
  assert.equal(chunks.length, 0);
});

Deno.test("background children left after a normal exit are killed", async () => {
  const { result, chunks, elapsed, pid } = await run({
    argv: ["sh", "-c", "sleep 100 & echo hi"],
  });
  assert.deepEqual(result, { outcome: "completed", exit_code: 0 });
  assert.equal(text(chunks, "stdout"), "hi\n");
  assert.ok(elapsed < 2000, `elapsed ${elapsed}`);
  await assertGroupGone(pid!);
});

Deno.test("a missing binary fails without leaking paths", async () => {
  const { result, pid } = await run({
    argv: ["/nonexistent/dir/no-such-binary-xyz"],
    cwd: Deno.cwd(),
  });
  assert.deepEqual(result, { outcome: "failed", reason: "command could not be started" });
  assert.equal(pid, undefined);
});

Deno.test("an emit failure stops the child and rejects the turn", async () => {
  let pid: number | undefined;
  const engine = new CommandEngine({
    argv: ["sh", "-c", "echo first; sleep 100"],
    onSpawn: (p) => (pid = p),
  });
  await assert.rejects(
    engine.runTurn({
      input: "",
      signal: new AbortController().signal,
      emit: () => Promise.reject(new Error("store closed")),
    }),
    /store closed/,
  );
  await assertGroupGone(pid!);
});

Deno.test("emit back-pressure is awaited and chunks stay in order", async () => {
  const seen: string[] = [];
  const engine = new CommandEngine({ argv: ["sh", "-c", "for i in 1 2 3; do echo $i; done"] });
  let inFlight = 0;
  const result = await engine.runTurn({
    input: "",
    signal: new AbortController().signal,
    emit: async (chunk) => {
      inFlight++;
      assert.equal(inFlight, 1, "emit must not be re-entered");
      await new Promise((r) => setTimeout(r, 20));
      seen.push(chunk.text);
      inFlight--;
    },
  });
  assert.equal(result.outcome, "completed");
  assert.equal(seen.join(""), "1\n2\n3\n");
});
