/**
 * The worker console's view of a transcript: events folded into blocks
 * (input lines, output concatenated per turn, turn results), plus the last
 * seq seen and the worker status. Pure and zod-free: the console route folds
 * the transcript on the server, the console island keeps folding live events.
 * @module
 */
import type { WorkerEvent, WorkerStatus } from "../../../shared/runtime_dto.ts";

/** A run of output text from one stream. */
export interface OutputPart {
  text: string;
  stream?: "stdout" | "stderr";
}

export type Block =
  | { kind: "input"; seq: number; text: string }
  | { kind: "output"; seq: number; parts: OutputPart[] }
  | { kind: "note"; seq: number; text: string; tone: "muted" | "danger" | "warning" }
  /** One tool use of engine `openai`: the call, then its result once `tool.result` arrives. */
  | {
    kind: "tool";
    seq: number;
    call_id: string;
    name: string;
    arguments: string;
    result?: { ok: boolean; output: string };
  };

export interface ConsoleView {
  blocks: Block[];
  /** The highest seq folded in; anything at or below it is a duplicate. */
  lastSeq: number;
  status: WorkerStatus;
  /** Seq of the event (or ack) the status came from. */
  statusSeq: number;
  /** Whether the next output delta continues the last output block. */
  outputOpen: boolean;
}

export function emptyView(status: WorkerStatus): ConsoleView {
  return { blocks: [], lastSeq: 0, status, statusSeq: 0, outputOpen: false };
}

function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

function turnLabel(data: Record<string, unknown>): string {
  return typeof data.turn === "number" ? `Turn ${data.turn}` : "Turn";
}

function exitSuffix(data: Record<string, unknown>): string {
  return typeof data.exit_code === "number" ? ` (exit code ${data.exit_code})` : "";
}

/** " · 21 prompt + 13 completion tokens" when a turn end carries `usage` (engine `openai`). */
export function usageSuffix(data: Record<string, unknown>): string {
  const u = data.usage as { prompt_tokens?: unknown; completion_tokens?: unknown } | undefined;
  if (typeof u !== "object" || u === null) return "";
  const p = typeof u.prompt_tokens === "number" ? u.prompt_tokens : 0;
  const c = typeof u.completion_tokens === "number" ? u.completion_tokens : 0;
  return ` · ${p} prompt + ${c} completion tokens`;
}

const STATUSES: readonly string[] = ["idle", "busy", "paused", "stopped"];

/**
 * Folds a batch of events into `view`. Events at or below `view.lastSeq` are
 * ignored, so a replay that overlaps what is shown never duplicates output.
 * Returns `view` itself when nothing changed.
 */
export function applyEvents(view: ConsoleView, events: readonly WorkerEvent[]): ConsoleView {
  let next: ConsoleView | null = null;
  for (const ev of events) {
    if (!(ev.seq > (next ?? view).lastSeq)) continue;
    if (!next) next = { ...view, blocks: view.blocks.slice() };
    fold(next, ev);
  }
  return next ?? view;
}

/** Folds one event into a view this function may mutate (blocks array is owned). */
function fold(v: ConsoleView, ev: WorkerEvent): void {
  v.lastSeq = ev.seq;
  const data = ev.data ?? {};
  const note = (text: string, tone: "muted" | "danger" | "warning" = "muted") => {
    v.blocks.push({ kind: "note", seq: ev.seq, text, tone });
    v.outputOpen = false;
  };
  switch (ev.type) {
    case "worker.created": {
      const profile = str(data.profile);
      note(profile ? `Worker created with profile ${profile}.` : "Worker created.");
      break;
    }
    case "worker.status": {
      const s = str(data.status);
      if (s && STATUSES.includes(s)) {
        v.status = s as WorkerStatus;
        v.statusSeq = ev.seq;
      }
      break;
    }
    case "input.accepted":
      v.blocks.push({ kind: "input", seq: ev.seq, text: str(data.text) ?? "" });
      v.outputOpen = false;
      break;
    case "turn.started":
      v.outputOpen = false;
      break;
    case "output.delta": {
      const text = str(data.text) ?? "";
      const stream = data.stream === "stderr" || data.stream === "stdout" ? data.stream : undefined;
      const last = v.blocks[v.blocks.length - 1];
      if (v.outputOpen && last?.kind === "output") {
        const parts = last.parts.slice();
        const tail = parts[parts.length - 1];
        if (tail && tail.stream === stream) {
          parts[parts.length - 1] = { ...tail, text: tail.text + text };
        } else parts.push(stream ? { text, stream } : { text });
        v.blocks[v.blocks.length - 1] = { ...last, parts };
      } else {
        v.blocks.push({
          kind: "output",
          seq: ev.seq,
          parts: [stream ? { text, stream } : { text }],
        });
        v.outputOpen = true;
      }
      break;
    }
    case "turn.completed":
      note(`${turnLabel(data)} completed${exitSuffix(data)}${usageSuffix(data)}.`);
      break;
    case "turn.cancelled": {
      const reason = str(data.reason);
      note(
        `${turnLabel(data)} cancelled${reason && reason !== "cancelled" ? `: ${reason}` : ""}.`,
        "warning",
      );
      break;
    }
    case "turn.failed": {
      const message = str(data.message);
      note(
        `${turnLabel(data)} failed: ${str(data.reason) ?? "unknown reason"}${
          message ? ` (${message})` : ""
        }${exitSuffix(data)}${usageSuffix(data)}.`,
        "danger",
      );
      break;
    }
    case "tool.call":
      v.blocks.push({
        kind: "tool",
        seq: ev.seq,
        call_id: str(data.call_id) ?? "",
        name: str(data.name) ?? "tool",
        arguments: str(data.arguments) ?? "",
      });
      v.outputOpen = false;
      break;
    case "tool.result": {
      const id = str(data.call_id);
      for (let i = v.blocks.length - 1; i >= 0; i--) {
        const b = v.blocks[i];
        if (b.kind === "tool" && b.call_id === id && !b.result) {
          v.blocks[i] = { ...b, result: { ok: data.ok === true, output: str(data.output) ?? "" } };
          break;
        }
      }
      break;
    }
    case "worker.stopped":
      v.status = "stopped";
      v.statusSeq = ev.seq;
      note("Worker stopped.");
      break;
    case "turn.paused":
      note(`${turnLabel(data)} paused.`, "warning");
      break;
    case "turn.resumed":
      note(`${turnLabel(data)} resumed.`);
      break;
    case "worker.restored":
      note("Worker restored: it takes input again.");
      break;
    case "worker.renamed": {
      const name = str(data.display_name);
      if (name) note(`Renamed to ${name}.`);
      break;
    }
    default:
      break; // an event type this console does not show; its seq still counts
  }
}

/** A non-event WS frame (`type` starts with `stream.`, no `seq`). Zod-free twin of the schema. */
export interface StreamControl {
  type: string;
  code?: string;
  message?: string;
  after?: number;
}

export function isStreamControl(msg: unknown): msg is StreamControl {
  return typeof msg === "object" && msg !== null && !("seq" in msg) &&
    typeof (msg as { type?: unknown }).type === "string" &&
    (msg as { type: string }).type.startsWith("stream.");
}

/** A WS message that looks like a worker event (shape-checked, not schema-validated). */
export function isWorkerEvent(msg: unknown): msg is WorkerEvent {
  const m = msg as Partial<WorkerEvent> | null;
  return typeof m === "object" && m !== null && typeof m.seq === "number" &&
    Number.isInteger(m.seq) && m.seq > 0 && typeof m.type === "string" &&
    typeof m.data === "object" && m.data !== null;
}
