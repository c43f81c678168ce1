/**
 * DTOs of the Runtime API (DESIGN §4). The Backend re-uses them in its own
 * envelopes, so these are the single definitions for both sides.
 * @module
 */
import { z } from "zod";
import { DiagnosticSchema } from "./errors.ts";
import { ProfileName, RuntimeId, WorkerId } from "./ids.ts";

export const PROTOCOL_NAME = "yoi-worker-runtime";
export const PROTOCOL_VERSION = 1;

/** The operations a Runtime may offer; every one is a boolean in `capabilities`. */
export const OPERATIONS = [
  "list_workers",
  "worker_detail",
  "create_worker",
  "input",
  "stop",
  "cancel",
  "transcript",
  "events_ws",
] as const;
export type Operation = typeof OPERATIONS[number];

/**
 * Worker lifecycle operations (DESIGN §4, issue 17). Kept apart from {@link OPERATIONS} because
 * they are optional in a summary: a runtime from before them omits them, which means `false`.
 */
export const LIFECYCLE_OPERATIONS = ["restore", "pause", "rename", "delete"] as const;
export type LifecycleOperation = typeof LIFECYCLE_OPERATIONS[number];

export const CapabilitiesSchema = z.object({
  list_workers: z.boolean(),
  worker_detail: z.boolean(),
  create_worker: z.boolean(),
  input: z.boolean(),
  stop: z.boolean(),
  cancel: z.boolean(),
  transcript: z.boolean(),
  events_ws: z.boolean(),
  restore: z.boolean().optional(),
  pause: z.boolean().optional(),
  rename: z.boolean().optional(),
  delete: z.boolean().optional(),
  /**
   * `GET /v1/workers?wait=MS` holds a conditional list until it changes (issue 15). Optional: a
   * runtime without it omits it, and the Backend then asks for every list.
   */
  list_wait: z.boolean().optional(),
});
export type Capabilities = z.infer<typeof CapabilitiesSchema>;

export const WorkerStatusSchema = z.enum(["idle", "busy", "paused", "stopped"]);
export type WorkerStatus = z.infer<typeof WorkerStatusSchema>;
/** Every worker status, in lifecycle order (filters and counts use it). */
export const WORKER_STATUSES = WorkerStatusSchema.options;

/** Workers of a runtime per status (`RuntimeSummary.worker_counts`). */
export const WorkerCountsSchema = z.object({
  idle: z.number().int().nonnegative(),
  busy: z.number().int().nonnegative(),
  paused: z.number().int().nonnegative(),
  stopped: z.number().int().nonnegative(),
});
export type WorkerCounts = z.infer<typeof WorkerCountsSchema>;

export const RuntimeSummarySchema = z.object({
  runtime_id: RuntimeId,
  display_name: z.string(),
  status: z.enum(["running", "stopping"]),
  protocol: z.object({ name: z.string(), version: z.number().int() }),
  capabilities: CapabilitiesSchema,
  profiles: z.array(ProfileName),
  worker_count: z.number().int().nonnegative(),
  /** Optional: a runtime from before issue 17 does not send it. */
  worker_counts: WorkerCountsSchema.optional(),
  os: z.string(),
  arch: z.string(),
  started_at: z.string(),
});
export type RuntimeSummary = z.infer<typeof RuntimeSummarySchema>;

export const TurnOutcomeSchema = z.enum(["completed", "failed", "cancelled"]);
export type TurnOutcome = z.infer<typeof TurnOutcomeSchema>;

export const WorkerSummarySchema = z.object({
  runtime_id: RuntimeId,
  worker_id: WorkerId,
  display_name: z.string(),
  profile: ProfileName,
  status: WorkerStatusSchema,
  created_at: z.string(),
  last_seq: z.number().int().nonnegative(),
  /**
   * Set by the Backend on workers of a runtime that was verified and is now unreachable:
   * last-known fields, not live ones (DESIGN §6).
   */
  stale: z.boolean().optional(),
});
export type WorkerSummary = z.infer<typeof WorkerSummarySchema>;

export const WorkerDetailSchema = WorkerSummarySchema.extend({
  updated_at: z.string(),
  turn_count: z.number().int().nonnegative(),
  last_turn_outcome: TurnOutcomeSchema.nullable(),
});
export type WorkerDetail = z.infer<typeof WorkerDetailSchema>;

export const EVENT_TYPES = [
  "worker.created",
  "worker.status",
  "input.accepted",
  "turn.started",
  "output.delta",
  "turn.completed",
  "turn.failed",
  "turn.cancelled",
  "worker.stopped",
  // lifecycle (issue 17): pause/resume of a running turn, reopening and renaming a worker
  "turn.paused",
  "turn.resumed",
  "worker.restored",
  "worker.renamed",
  // engine `openai` (DESIGN §13): one tool use, recorded before and after it runs
  "tool.call",
  "tool.result",
] as const;
export const WorkerEventTypeSchema = z.enum(EVENT_TYPES);
export type WorkerEventType = typeof EVENT_TYPES[number];

/** One entry of a worker's durable log; `seq` starts at 1 and never repeats. */
export const WorkerEventSchema = z.object({
  seq: z.number().int().positive(),
  worker_id: WorkerId,
  at: z.string(),
  type: WorkerEventTypeSchema,
  data: z.record(z.string(), z.unknown()),
});
export type WorkerEvent = z.infer<typeof WorkerEventSchema>;

/** A non-event WS frame: `type` starts with `stream.` and there is no `seq`. */
export const ControlFrameSchema = z.object({
  type: z.string().startsWith("stream."),
  code: z.string().optional(),
  message: z.string().optional(),
  after: z.number().int().nonnegative().optional(),
  /** `stream.ended`: why the stream ended (`runtime_removed`, `shutdown`). */
  reason: z.string().optional(),
  /** `stream.opened`: the runtime and worker the stream belongs to. */
  runtime_id: z.string().optional(),
  worker_id: z.string().optional(),
});
export type ControlFrame = z.infer<typeof ControlFrameSchema>;

/** Whether a parsed WS message is a control frame rather than an event. */
export function isControlFrame(msg: unknown): msg is ControlFrame {
  return typeof msg === "object" && msg !== null && !("seq" in msg) &&
    typeof (msg as { type?: unknown }).type === "string" &&
    (msg as { type: string }).type.startsWith("stream.");
}

/** Longest accepted display name (DESIGN §6). */
export const DISPLAY_NAME_MAX = 80;
// deno-lint-ignore no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;
const BIDI_CONTROLS = /[\u202a-\u202e\u2066-\u2069]/;
/** An unpaired UTF-16 surrogate (a paired one is one astral code point under the u flag). */
export const LONE_SURROGATE = /\p{Cs}/u;
export const DisplayName = z.string().max(DISPLAY_NAME_MAX, "must be at most 80 characters")
  .refine((s) => !CONTROL_CHARS.test(s), "must not contain control characters")
  .refine((s) => !BIDI_CONTROLS.test(s), "must not contain bidi control characters")
  .refine((s) => !LONE_SURROGATE.test(s), "must not contain unpaired surrogates");

/** Longest accepted input text, in characters. */
export const INPUT_TEXT_MAX = 256 * 1024;

export const CreateWorkerRequestSchema = z.strictObject({
  profile: ProfileName.optional(),
  display_name: DisplayName.optional(),
  request_id: z.string().min(1).max(128).optional(),
  /** First instruction: the worker is created and its first turn starts (DESIGN §4). */
  input: z.string().min(1, "must not be empty").max(INPUT_TEXT_MAX).optional(),
});
export type CreateWorkerRequest = z.infer<typeof CreateWorkerRequestSchema>;

export const InputRequestSchema = z.strictObject({
  text: z.string().min(1, "must not be empty").max(INPUT_TEXT_MAX),
});
export type InputRequest = z.infer<typeof InputRequestSchema>;

/** `PATCH /v1/workers/{id}`: rename (the only field that changes). */
export const RenameWorkerRequestSchema = z.strictObject({
  display_name: DisplayName.refine((s) => s.trim().length > 0, "must not be blank"),
});
export type RenameWorkerRequest = z.infer<typeof RenameWorkerRequestSchema>;

/** Longest `wait` of a held list request, ms (`GET /v1/workers?wait=`). */
export const LIST_WAIT_MAX_MS = 30_000;

/** `?status=`: one status to filter a worker list by (the Backend's lists take only this). */
export const WorkerStatusQuerySchema = z.object({ status: WorkerStatusSchema.optional() });

/** `GET /v1/workers?status=&wait=`: `wait` with `If-None-Match` holds the answer until it changes. */
export const WorkerListQuerySchema = WorkerStatusQuerySchema.extend({
  wait: queryCount(0, LIST_WAIT_MAX_MS).optional(),
});

/** `POST /v1/workers/{id}/restore?dry_run=true`: only answers whether it can. */
export const RestoreQuerySchema = z.object({
  dry_run: z.enum(["true", "false"]).optional().transform((v) => v === "true"),
});

export const AckSchema = z.object({
  worker_id: WorkerId,
  status: WorkerStatusSchema,
  seq: z.number().int().nonnegative(),
});
export type Ack = z.infer<typeof AckSchema>;

/** Default and largest `limit` for transcript pages. */
export const TRANSCRIPT_LIMIT_DEFAULT = 500;
export const TRANSCRIPT_LIMIT_MAX = 5000;

/**
 * A count in a query string: decimal digits only. `z.coerce.number()` alone would take `1e3`,
 * `0x10` or ` 7` and answer "received NaN" for words; this says what is wanted instead.
 */
function queryCount(min: 0 | 1, max?: number) {
  const what = `must be a whole number${
    max ? ` from ${min} to ${max}` : min ? ` from ${min}` : ""
  }`;
  const n = z.number({ error: what }).int({ error: what }).min(min, { error: what });
  return z.preprocess(
    (v) => (typeof v === "string" && /^[0-9]{1,16}$/.test(v) ? Number(v) : v),
    max === undefined ? n : n.max(max, { error: what }),
  );
}

export const TranscriptQuerySchema = z.object({
  after: queryCount(0).default(0),
  limit: queryCount(1, TRANSCRIPT_LIMIT_MAX).default(TRANSCRIPT_LIMIT_DEFAULT),
});
export type TranscriptQuery = z.infer<typeof TranscriptQuerySchema>;

export const EventsQuerySchema = z.object({
  after: queryCount(0).default(0),
});

// Envelopes of the Runtime API.
export const RuntimeEnvelopeSchema = z.object({ runtime: RuntimeSummarySchema });
export const WorkerListEnvelopeSchema = z.object({
  workers: z.array(WorkerSummarySchema),
  diagnostics: z.array(DiagnosticSchema).default([]),
});
export const WorkerEnvelopeSchema = z.object({ worker: WorkerDetailSchema });
export const AckEnvelopeSchema = z.object({ ack: AckSchema });
/** Restore's answer: the ack, and `dry_run: true` when nothing was changed. */
export const RestoreEnvelopeSchema = z.object({ ack: AckSchema, dry_run: z.boolean() });
export type RestoreResult = z.infer<typeof RestoreEnvelopeSchema>;
/** DELETE's answer: what was removed. */
export const DeletedEnvelopeSchema = z.object({
  deleted: z.object({ worker_id: WorkerId }),
});
export const TranscriptEnvelopeSchema = z.object({
  entries: z.array(WorkerEventSchema),
  next_after: z.number().int().nonnegative(),
});
export type TranscriptPage = z.infer<typeof TranscriptEnvelopeSchema>;

/** `tool.call` payload (DESIGN §13): `arguments` is the model's JSON text, as sent. */
export const ToolCallDataSchema = z.object({
  call_id: z.string(),
  name: z.string(),
  arguments: z.string(),
});
export type ToolCallData = z.infer<typeof ToolCallDataSchema>;

/** `tool.result` payload: `output` is what the model is shown (capped). */
export const ToolResultDataSchema = z.object({
  call_id: z.string(),
  ok: z.boolean(),
  output: z.string(),
});
export type ToolResultData = z.infer<typeof ToolResultDataSchema>;

/** Token counts a `turn.completed` of engine `openai` carries, summed over the turn's steps. */
export const TurnUsageSchema = z.object({
  prompt_tokens: z.number().int().nonnegative(),
  completion_tokens: z.number().int().nonnegative(),
});
export type TurnUsage = z.infer<typeof TurnUsageSchema>;
