import assert from "node:assert/strict";
import type { WorkerEvent } from "../shared/mod.ts";
import { historyMessages, MISSING_RESULT } from "./openai_history.ts";

let seq = 0;
function ev(type: string, data: Record<string, unknown> = {}): WorkerEvent {
  return {
    seq: ++seq,
    worker_id: "01900000-0000-7000-8000-000000000000",
    at: "2026-01-01T00:00:00.000Z",
    type: type as WorkerEvent["type"],
    data,
  };
}

Deno.test("a turn with parallel tool calls folds into user, assistant+calls, tools, answer", () => {
  const msgs = historyMessages([
    ev("worker.created", { profile: "coder" }),
    ev("input.accepted", { text: "fix it" }),
    ev("turn.started", { turn: 1 }),
    ev("output.delta", { text: "Let me " }),
    ev("output.delta", { text: "look." }),
    ev("tool.call", { call_id: "a", name: "list_dir", arguments: "{}" }),
    ev("tool.call", { call_id: "b", name: "read_file", arguments: '{"path":"x"}' }),
    ev("tool.result", { call_id: "b", ok: true, output: "B" }),
    ev("tool.result", { call_id: "a", ok: true, output: "A" }),
    ev("tool.call", { call_id: "c", name: "write_file", arguments: "{}" }),
    ev("tool.result", { call_id: "c", ok: false, output: "error" }),
    ev("output.delta", { text: "Done." }),
    ev("turn.completed", { turn: 1 }),
  ]);
  assert.deepEqual(msgs, [
    { role: "user", content: "fix it" },
    {
      role: "assistant",
      content: "Let me look.",
      tool_calls: [
        { id: "a", type: "function", function: { name: "list_dir", arguments: "{}" } },
        { id: "b", type: "function", function: { name: "read_file", arguments: '{"path":"x"}' } },
      ],
    },
    { role: "tool", tool_call_id: "b", content: "B" },
    { role: "tool", tool_call_id: "a", content: "A" },
    {
      role: "assistant",
      content: null,
      tool_calls: [{
        id: "c",
        type: "function",
        function: { name: "write_file", arguments: "{}" },
      }],
    },
    { role: "tool", tool_call_id: "c", content: "error" },
    { role: "assistant", content: "Done." },
  ]);
});

Deno.test("a cancelled tool call still gets a tool message; partial output is kept", () => {
  const msgs = historyMessages([
    ev("input.accepted", { text: "one" }),
    ev("tool.call", { call_id: "x", name: "run_command", arguments: '{"argv":["sleep"]}' }),
    ev("turn.cancelled", { turn: 1 }),
    ev("input.accepted", { text: "two" }),
    ev("output.delta", { text: "part" }),
    ev("turn.failed", { turn: 2, reason: "provider_unavailable" }),
  ]);
  assert.deepEqual(msgs.map((m) => m.role), ["user", "assistant", "tool", "user", "assistant"]);
  assert.equal((msgs[2] as { content: string }).content, MISSING_RESULT);
  assert.equal((msgs[4] as { content: string }).content, "part");
});

Deno.test("an echo/command worker's log (no tools) is a plain user/assistant history", () => {
  assert.deepEqual(
    historyMessages([
      ev("input.accepted", { text: "hi" }),
      ev("output.delta", { text: "hi", stream: "stdout" }),
      ev("turn.completed", { turn: 1 }),
    ]),
    [{ role: "user", content: "hi" }, { role: "assistant", content: "hi" }],
  );
});
