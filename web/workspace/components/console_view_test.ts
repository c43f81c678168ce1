import assert from "node:assert/strict";
import type { WorkerEvent } from "../../../shared/runtime_dto.ts";
import { applyEvents, emptyView, isStreamControl, isWorkerEvent } from "./console_view.ts";

const WID = "01a200ab-9d5e-729b-a224-9d663dd4d59b";
let seq = 0;
function ev(type: WorkerEvent["type"], data: Record<string, unknown> = {}): WorkerEvent {
  return { seq: ++seq, worker_id: WID, at: "2026-01-01T00:00:00.000Z", type, data };
}

function turn(input: string, chunks: string[], end: WorkerEvent["type"], endData = {}) {
  return [
    ev("input.accepted", { text: input }),
    ev("worker.status", { status: "busy" }),
    ev("turn.started", { turn: 1 }),
    ...chunks.map((text) => ev("output.delta", { text })),
    ev(end, { turn: 1, ...endData }),
    ev("worker.status", { status: "idle" }),
  ];
}

Deno.test("console view: output is concatenated per turn; results become notes", () => {
  seq = 0;
  const events = [
    ev("worker.created", { profile: "echo" }),
    ev("worker.status", { status: "idle" }),
    ...turn("hello", ["he", "ll", "o"], "turn.completed"),
    ...turn("again", ["ag", "ain"], "turn.cancelled", { reason: "cancelled" }),
    ...turn("boom", ["x"], "turn.failed", { reason: "exit 3", exit_code: 3 }),
  ];
  const v = applyEvents(emptyView("idle"), events);
  assert.deepEqual(
    v.blocks.map((b) =>
      b.kind === "output"
        ? b.parts.map((p) => p.text).join("")
        : b.kind === "tool"
        ? `tool:${b.name}`
        : `${b.kind}:${b.text}`
    ),
    [
      "note:Worker created with profile echo.",
      "input:hello",
      "hello",
      "note:Turn 1 completed.",
      "input:again",
      "again",
      "note:Turn 1 cancelled.",
      "input:boom",
      "x",
      "note:Turn 1 failed: exit 3 (exit code 3).",
    ],
  );
  assert.equal(v.lastSeq, events.length);
  assert.equal(v.status, "idle");
});

Deno.test("console view: seqs at or below the last one are ignored (no duplicates)", () => {
  seq = 0;
  const events = turn("abc", ["a", "b", "c"], "turn.completed");
  const once = applyEvents(emptyView("idle"), events);
  assert.equal(applyEvents(once, events), once, "a full replay changes nothing");
  const overlap = applyEvents(applyEvents(emptyView("idle"), events.slice(0, 5)), events.slice(3));
  assert.deepEqual(overlap, once, "an overlapping resume equals one pass");
});

Deno.test("console view: stderr parts stay apart; status follows worker.status and stop", () => {
  seq = 0;
  const v = applyEvents(emptyView("idle"), [
    ev("input.accepted", { text: "run" }),
    ev("worker.status", { status: "busy" }),
    ev("turn.started", { turn: 1 }),
    ev("output.delta", { text: "out1 ", stream: "stdout" }),
    ev("output.delta", { text: "out2 ", stream: "stdout" }),
    ev("output.delta", { text: "err", stream: "stderr" }),
  ]);
  assert.equal(v.status, "busy");
  const out = v.blocks.at(-1)!;
  assert.equal(out.kind, "output");
  assert.deepEqual(out.kind === "output" && out.parts, [
    { text: "out1 out2 ", stream: "stdout" },
    { text: "err", stream: "stderr" },
  ]);
  const stopped = applyEvents(v, [
    ev("turn.cancelled", { turn: 1, reason: "worker stopped" }),
    ev("worker.status", { status: "stopped" }),
    ev("worker.stopped"),
  ]);
  assert.equal(stopped.status, "stopped");
  assert.deepEqual(stopped.blocks.slice(-2).map((b) => b.kind === "note" && b.text), [
    "Turn 1 cancelled: worker stopped.",
    "Worker stopped.",
  ]);
  assert.equal(v.blocks.length, 2, "the earlier view is not mutated");
});

Deno.test("console view: WS message shapes", () => {
  assert.equal(isStreamControl({ type: "stream.resumed", after: 3 }), true);
  assert.equal(isStreamControl({ type: "stream.resumed", seq: 3 }), false);
  assert.equal(isStreamControl({ type: "output.delta" }), false);
  assert.equal(isWorkerEvent({ seq: 1, type: "output.delta", data: {} }), true);
  assert.equal(isWorkerEvent({ seq: 0, type: "output.delta", data: {} }), false);
  assert.equal(isWorkerEvent({ type: "stream.reconnecting" }), false);
});

Deno.test("engine openai: tool calls fold into blocks with their results; usage on the turn end", () => {
  const events: WorkerEvent[] = [
    ev("input.accepted", { text: "go" }),
    ev("turn.started", { turn: 1 }),
    ev("output.delta", { text: "Looking" }),
    ev("tool.call", { call_id: "a", name: "list_dir", arguments: "{}" }),
    ev("tool.call", { call_id: "b", name: "read_file", arguments: '{"path":"x"}' }),
    ev("tool.result", { call_id: "b", ok: false, output: "error: not found" }),
    ev("tool.result", { call_id: "a", ok: true, output: "src/" }),
    ev("output.delta", { text: "Done" }),
    ev("turn.completed", { turn: 1, usage: { prompt_tokens: 21, completion_tokens: 13 } }),
    ev("input.accepted", { text: "again" }),
    ev("turn.failed", {
      turn: 2,
      reason: "provider_unavailable",
      message: "the provider's stream was cut",
      usage: { prompt_tokens: 0, completion_tokens: 0 },
    }),
  ];
  const v = applyEvents(emptyView("idle"), events);
  const tools = v.blocks.filter((b) => b.kind === "tool");
  assert.deepEqual(tools.map((b) => [b.call_id, b.name, b.arguments, b.result]), [
    ["a", "list_dir", "{}", { ok: true, output: "src/" }],
    ["b", "read_file", '{"path":"x"}', { ok: false, output: "error: not found" }],
  ]);
  // Output after the tools is a new block, not glued to the text before them.
  assert.deepEqual(
    v.blocks.filter((b) => b.kind === "output").map((b) => b.parts[0].text),
    ["Looking", "Done"],
  );
  const notes = v.blocks.filter((b) => b.kind === "note").map((b) => b.text);
  assert.deepEqual(notes, [
    "Turn 1 completed · 21 prompt + 13 completion tokens.",
    "Turn 2 failed: provider_unavailable (the provider's stream was cut) · 0 prompt + 0 completion tokens.",
  ]);
});
