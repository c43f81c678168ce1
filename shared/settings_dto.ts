/**
 * DTOs of the runtime-connection settings API (DESIGN §6, §7).
 * @module
 */
import { z } from "zod";
import { DiagnosticSchema } from "./errors.ts";
import { ProfileName, RuntimeId } from "./ids.ts";

/** What an admin may send to add a connection. `token`/`bearer_token` are refused before this. */
export const AddConnectionRequestSchema = z.strictObject({
  id: z.string(),
  endpoint: z.string(),
  display_name: z.string().optional(),
  token_ref: z.string().optional(),
});
export type AddConnectionRequest = z.infer<typeof AddConnectionRequestSchema>;

/** One row of the Runtime Connections screen. Never carries a token value or a file path. */
export const ConnectionRowSchema = z.object({
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
  /** In the live registry of this Backend process. */
  active: z.boolean(),
  /** Config and live registry disagree until the Backend restarts. */
  restart_required: z.boolean(),
  diagnostics: z.array(DiagnosticSchema),
});
export type ConnectionRow = z.infer<typeof ConnectionRowSchema>;

export const ConnectionListSchema = z.object({
  connections: z.array(ConnectionRowSchema),
  /** False when the config file exists but does not parse: mutations are refused. */
  config_ok: z.boolean(),
  restart_required: z.boolean(),
  diagnostics: z.array(DiagnosticSchema),
});
export type ConnectionList = z.infer<typeof ConnectionListSchema>;

export const AddConnectionResponseSchema = z.object({
  connection: ConnectionRowSchema,
  restart_required: z.literal(true),
});
export const DeleteConnectionResponseSchema = z.object({
  deleted: RuntimeId,
  restart_required: z.literal(true),
});

export const OperationSupportSchema = z.enum(["supported", "unsupported", "unknown"]);
export type OperationSupport = z.infer<typeof OperationSupportSchema>;

/** The negotiation probe's answer; nothing from it is persisted. */
export const ProbeResultSchema = z.object({
  runtime_id: RuntimeId,
  checked_at: z.string(),
  reachable: z.boolean(),
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
