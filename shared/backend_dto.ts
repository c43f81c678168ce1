/**
 * DTOs of the Backend's browser-facing API (DESIGN §6). Worker and event
 * shapes are the Runtime's own (runtime_dto.ts); these add the registry view.
 * @module
 */
import { z } from "zod";
import { DiagnosticSchema } from "./errors.ts";
import { ProfileName, RuntimeId } from "./ids.ts";
import {
  AckSchema,
  CapabilitiesSchema,
  WorkerDetailSchema,
  WorkerSummarySchema,
} from "./runtime_dto.ts";

export const RuntimeKindSchema = z.enum(["embedded", "remote"]);
export type RuntimeKind = z.infer<typeof RuntimeKindSchema>;

/** Live state of a registered runtime as last seen by the Backend. */
export const RuntimeStatusSchema = z.enum(["running", "stopping", "unreachable", "incompatible"]);
export type RuntimeStatus = z.infer<typeof RuntimeStatusSchema>;

/** One entry of `GET /api/runtimes`: everything a worker-creation form needs. */
export const RuntimeEntrySchema = z.object({
  runtime_id: RuntimeId,
  kind: RuntimeKindSchema,
  display_name: z.string(),
  status: RuntimeStatusSchema,
  protocol: z.object({ name: z.string(), version: z.number().int() }).nullable(),
  capabilities: CapabilitiesSchema.nullable(),
  profiles: z.array(ProfileName),
  worker_count: z.number().int().nonnegative().nullable(),
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
    diagnostics: z.array(DiagnosticSchema),
  }),
});
export type BackendInfo = z.infer<typeof BackendInfoSchema>["backend"];
