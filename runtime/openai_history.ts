/**
 * Rebuilds an `openai` worker's conversation from its event log: the log is
 * the worker's only memory, so a runtime restarted between turns (or after a
 * crash) sends the provider the same history it would have kept in memory.
 * @module
 */
import type { WorkerEvent } from "../shared/mod.ts";

/** One Chat Completions message, in the wire shape the provider takes. */
export type ChatMessage =
  | { role: "system" | "user"; content: string }
  | { role: "assistant"; content: string | null; tool_calls?: WireToolCall[] }
  | { role: "tool"; tool_call_id: string; content: string };

export interface WireToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

/** Said to the model for a tool call whose result never came (the turn was cut short). */
export const MISSING_RESULT = "error: no result (the turn ended before this tool finished)";

/**
 * Folds events into messages: `input.accepted` → user, `output.delta` →
 * assistant text, `tool.call` → the assistant's tool calls of that step,
 * `tool.result` → tool messages. Output after tool results opens a new
 * assistant message. Every tool call gets a tool message (providers refuse a
 * conversation where one is missing).
 */
export function historyMessages(events: readonly WorkerEvent[]): ChatMessage[] {
  const out: ChatMessage[] = [];
  let text = "";
  let calls: WireToolCall[] = [];
  let answered = new Set<string>();
  let open = false; // an assistant message is being gathered

  const closeAssistant = () => {
    if (!open) return;
    const msg: ChatMessage = { role: "assistant", content: text === "" ? null : text };
    if (calls.length > 0) msg.tool_calls = calls;
    if (msg.content !== null || calls.length > 0) out.push(msg);
    text = "";
    open = false;
  };
  const closeStep = () => {
    closeAssistant();
    for (const c of calls) {
      if (!answered.has(c.id)) {
        out.push({ role: "tool", tool_call_id: c.id, content: MISSING_RESULT });
      }
    }
    calls = [];
    answered = new Set();
  };

  for (const e of events) {
    const d = e.data ?? {};
    switch (e.type) {
      case "input.accepted":
        closeStep();
        out.push({ role: "user", content: typeof d.text === "string" ? d.text : "" });
        break;
      case "output.delta":
        if (calls.length > 0) closeStep(); // text after tool results: the next step
        open = true;
        if (typeof d.text === "string") text += d.text;
        break;
      case "tool.call":
        if (calls.length > 0 && answered.size > 0) closeStep(); // a later step's calls
        open = true;
        if (typeof d.call_id === "string" && typeof d.name === "string") {
          calls.push({
            id: d.call_id,
            type: "function",
            function: {
              name: d.name,
              arguments: typeof d.arguments === "string" ? d.arguments : "{}",
            },
          });
        }
        break;
      case "tool.result": {
        closeAssistant();
        const id = typeof d.call_id === "string" ? d.call_id : "";
        if (calls.some((c) => c.id === id) && !answered.has(id)) {
          answered.add(id);
          out.push({
            role: "tool",
            tool_call_id: id,
            content: typeof d.output === "string" ? d.output : "",
          });
        }
        break;
      }
      case "turn.completed":
      case "turn.failed":
      case "turn.cancelled":
        closeStep();
        break;
      default:
        break;
    }
  }
  closeStep();
  return out;
}
