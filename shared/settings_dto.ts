/**
 * DTOs of the runtime-connection settings API (DESIGN §6, §7).
 * @module
 */
import { z } from "zod";
import { DiagnosticSchema } from "./errors.ts";
import { ProfileName, RuntimeId } from "./ids.ts";
import { RuntimeHealthSchema } from "./backend_dto.ts";

/** What an admin may send to add a connection. `token`/`bearer_token` are refused before this. */
export const AddConnectionRequestSchema = z.strictObject({
  id: z.string(),
  endpoint: z.string(),
  display_name: z.string().optional(),
  token_ref: z.string().optional(),
});
export type AddConnectionRequest = z.infer<typeof AddConnectionRequestSchema>;

/** What an admin may change on a connection; the id never changes (a body with `id` → 400). */
export const EditConnectionRequestSchema = z.strictObject({
  endpoint: z.string().optional(),
  display_name: z.string().optional(),
  token_ref: z.string().optional(),
});
export type EditConnectionRequest = z.infer<typeof EditConnectionRequestSchema>;

/** An unsaved candidate for "Save & test": probed, never persisted. */
export const TestCandidateRequestSchema = z.strictObject({
  id: z.string(),
  endpoint: z.string(),
  token_ref: z.string().optional(),
});
export type TestCandidateRequest = z.infer<typeof TestCandidateRequestSchema>;

/**
 * One row of the Runtime Connections screen, with the live health of its runtime (DESIGN §10).
 * Never carries a token value or a file path.
 */
export const ConnectionRowSchema = RuntimeHealthSchema.extend({
  id: RuntimeId,
  kind: z.enum(["embedded", "remote"]),
  display_name: z.string(),
  /** The endpoint the admin typed (remote only); never shown for the embedded runtime. */
  endpoint: z.string().nullable(),
  token_ref: z.string().nullable(),
  built_in: z.boolean(),
  deletable: z.boolean(),
  /** In the config file now. */
  persisted: z.boolean(),
  /** In the live registry of this Backend process (whatever its state). */
  active: z.boolean(),
  /** Always false for connections: they apply live. Kept for older clients. */
  restart_required: z.boolean(),
  diagnostics: z.array(DiagnosticSchema),
});
export type ConnectionRow = z.infer<typeof ConnectionRowSchema>;

export const ConnectionListSchema = z.object({
  connections: z.array(ConnectionRowSchema),
  /** False when the config file exists but does not parse: mutations are refused. */
  config_ok: z.boolean(),
  /** True only when `[server]` keys changed in the file; they apply at the next start. */
  restart_required: z.boolean(),
  /** The `[server]` keys whose file value differs from the running one, e.g. `listen`. */
  restart_required_keys: z.array(z.string()),
  diagnostics: z.array(DiagnosticSchema),
});
export type ConnectionList = z.infer<typeof ConnectionListSchema>;

/** Answer of add (201) and edit (200): saved and applied to the live registry. */
export const SaveConnectionResponseSchema = z.object({
  connection: ConnectionRowSchema,
  applied: z.literal(true),
  restart_required: z.literal(false),
});
export const AddConnectionResponseSchema = SaveConnectionResponseSchema;
export const DeleteConnectionResponseSchema = z.object({
  deleted: RuntimeId,
  applied: z.literal(true),
  restart_required: z.literal(false),
});

export const OperationSupportSchema = z.enum(["supported", "unsupported", "unknown"]);
export type OperationSupport = z.infer<typeof OperationSupportSchema>;

/** The negotiation probe's answer; nothing from it is persisted. */
export const ProbeResultSchema = z.object({
  runtime_id: RuntimeId,
  checked_at: z.string(),
  /** Round trip of `GET /v1/runtime`, ms; null when nothing answered. */
  latency_ms: z.number().nonnegative().nullable(),
  /** An HTTP answer came back. */
  reachable: z.boolean(),
  /** true; false on 401/403; null when it could not be asked. */
  authenticated: z.boolean().nullable(),
  identity: z.object({
    status: z.enum(["match", "mismatch", "unknown"]),
    observed_runtime_id: z.string().nullable(),
  }),
  protocol: z.object({
    compatible: z.boolean(),
    /** Exactly what was checked, e.g. "protocol yoi-worker-runtime/1 negotiated". */
    basis: z.string(),
    name: z.string().optional(),
    version: z.number().optional(),
  }),
  observed: z.object({
    runtime_id: z.string().nullable(),
    display_name: z.string().nullable(),
    status: z.string().nullable(),
    profiles: z.array(ProfileName),
  }),
  operations: z.object({
    list_workers: OperationSupportSchema,
    worker_detail: OperationSupportSchema,
    events_ws: OperationSupportSchema,
    create_worker: OperationSupportSchema,
    input: OperationSupportSchema,
    stop: OperationSupportSchema,
    cancel: OperationSupportSchema,
    transcript: OperationSupportSchema,
  }),
  diagnostics: z.array(DiagnosticSchema),
});
export type ProbeResult = z.infer<typeof ProbeResultSchema>;
