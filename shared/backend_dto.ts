/**
 * DTOs of the Backend's browser-facing API (DESIGN §6). Worker and event
 * shapes are the Runtime's own (runtime_dto.ts); these add the registry view.
 * @module
 */
import { z } from "zod";
import { DiagnosticSchema } from "./errors.ts";
import { ProfileName, RuntimeId, WorkerId } from "./ids.ts";
import {
  AckSchema,
  CapabilitiesSchema,
  WorkerCountsSchema,
  WorkerDetailSchema,
  WorkerSummarySchema,
} from "./runtime_dto.ts";

export const RuntimeKindSchema = z.enum(["embedded", "remote"]);
export type RuntimeKind = z.infer<typeof RuntimeKindSchema>;

/**
 * Live state of a registered runtime (DESIGN §10). Only `ready` runtimes are routed to;
 * the embedded runtime is always `ready`.
 */
export const RuntimeStateSchema = z.enum([
  "connecting",
  "ready",
  "unreachable",
  "auth_failed",
  "incompatible",
  "unconfigured",
]);
export type RuntimeState = z.infer<typeof RuntimeStateSchema>;

/** The runtime's own status when `ready`, else its registry state. */
export const RuntimeStatusSchema = z.enum([
  "running",
  "stopping",
  "connecting",
  "unreachable",
  "auth_failed",
  "incompatible",
  "unconfigured",
]);
export type RuntimeStatus = z.infer<typeof RuntimeStatusSchema>;

/** One health check of a remote runtime, kept in a short per-runtime history. */
export const HealthCheckSchema = z.object({
  at: z.string(),
  state: RuntimeStateSchema,
  latency_ms: z.number().nonnegative().nullable(),
  /** The diagnostic code of a failed check, null when it was `ready`. */
  code: z.string().nullable(),
});
export type HealthCheck = z.infer<typeof HealthCheckSchema>;

/** Live health of one runtime, shared by runtime entries and settings rows. */
export const RuntimeHealthSchema = z.object({
  state: RuntimeStateSchema,
  last_checked_at: z.string().nullable(),
  last_ok_at: z.string().nullable(),
  latency_ms: z.number().nonnegative().nullable(),
  worker_count: z.number().int().nonnegative().nullable(),
  /** The most recent checks, newest first (at most 20). */
  health_history: z.array(HealthCheckSchema),
});
export type RuntimeHealth = z.infer<typeof RuntimeHealthSchema>;

/** One entry of `GET /api/runtimes`: everything a worker-creation form needs. */
export const RuntimeEntrySchema = RuntimeHealthSchema.extend({
  runtime_id: RuntimeId,
  kind: RuntimeKindSchema,
  display_name: z.string(),
  status: RuntimeStatusSchema,
  protocol: z.object({ name: z.string(), version: z.number().int() }).nullable(),
  capabilities: CapabilitiesSchema.nullable(),
  profiles: z.array(ProfileName),
  worker_count: z.number().int().nonnegative().nullable(),
  /** Workers per status (issue 17); null when unknown, absent from runtimes before it. */
  worker_counts: WorkerCountsSchema.nullable().optional(),
  can_create_worker: z.boolean(),
  os: z.string().nullable(),
  arch: z.string().nullable(),
  diagnostics: z.array(DiagnosticSchema),
});
export type RuntimeEntry = z.infer<typeof RuntimeEntrySchema>;

export const RuntimeListSchema = z.object({
  runtimes: z.array(RuntimeEntrySchema),
  diagnostics: z.array(DiagnosticSchema),
});
export const RuntimeEntryEnvelopeSchema = z.object({ runtime: RuntimeEntrySchema });

export const BackendWorkerListSchema = z.object({
  workers: z.array(WorkerSummarySchema),
  diagnostics: z.array(DiagnosticSchema),
});
export const BackendWorkerEnvelopeSchema = z.object({ worker: WorkerDetailSchema });
export const BackendAckEnvelopeSchema = z.object({
  ack: AckSchema.extend({ runtime_id: RuntimeId }),
});
/** Restore's answer: the ack, and `dry_run: true` when nothing was changed. */
export const BackendRestoreEnvelopeSchema = BackendAckEnvelopeSchema.extend({
  dry_run: z.boolean(),
});
/** DELETE of a stopped worker: what was removed. */
export const BackendDeletedEnvelopeSchema = z.object({
  deleted: z.object({ runtime_id: RuntimeId, worker_id: WorkerId }),
});

/** A machine that hosts runtimes. Remote hosts are named by runtime id, never by address. */
export const HostSchema = z.object({
  host_id: z.string(),
  kind: z.enum(["local", "remote"]),
  display_name: z.string(),
  os: z.string().nullable(),
  arch: z.string().nullable(),
  runtime_ids: z.array(RuntimeId),
});
export const HostListSchema = z.object({
  hosts: z.array(HostSchema),
  diagnostics: z.array(DiagnosticSchema),
});
export type Host = z.infer<typeof HostSchema>;

/** `GET /api/backend`: the Backend's own settings, read-only. No paths, no secrets. */
export const BackendInfoSchema = z.object({
  backend: z.object({
    version: z.string(),
    started_at: z.string(),
    listen: z.string(),
    allowed_hosts: z.array(z.string()),
    admin_token_required: z.boolean(),
    fanout_deadline_ms: z.number().int(),
    remote_timeout_ms: z.number().int(),
    embedded_store: z.string(),
    config_ok: z.boolean(),
    /** Interval of the periodic health checks of remote runtimes, ms. */
    health_interval_ms: z.number().int(),
    /**
     * The Backend's capability-token public key, exactly as a runtime's `--trust-key` takes it
     * (DESIGN §8); null when the Backend runs without a key (a library embedding).
     */
    public_key: z.string().nullable(),
    diagnostics: z.array(DiagnosticSchema),
  }),
});
export type BackendInfo = z.infer<typeof BackendInfoSchema>["backend"];
