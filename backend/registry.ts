/**
 * The RuntimeRegistry: every runtime the Backend routes to, by `runtime_id`.
 * Fan-out reads query all runtimes in parallel under one deadline, so a slow
 * or dead runtime becomes a diagnostic instead of a slow or failed page.
 * @module
 */
import {
  ApiError,
  type Diagnostic,
  diagnostic,
  type Host,
  isName,
  type RuntimeEntry,
  type WorkerSummary,
} from "../shared/mod.ts";
import type { RuntimeHandle } from "./runtime_handle.ts";

export interface RegistryOptions {
  /** Deadline for fan-out reads (`/api/workers`, `/api/runtimes`), in ms. */
  fanoutDeadlineMs?: number;
  /** Registry-level diagnostics, e.g. an unparsable config file. */
  diagnostics?: Diagnostic[];
}

export class RuntimeRegistry {
  #handles = new Map<string, RuntimeHandle>();
  readonly fanoutDeadlineMs: number;
  readonly diagnostics: Diagnostic[];

  constructor(handles: RuntimeHandle[], opts: RegistryOptions = {}) {
    for (const h of handles) this.#handles.set(h.runtimeId, h);
    this.fanoutDeadlineMs = opts.fanoutDeadlineMs ?? 2000;
    this.diagnostics = [...(opts.diagnostics ?? [])];
  }

  ids(): string[] {
    return [...this.#handles.keys()];
  }

  has(runtimeId: string): boolean {
    return this.#handles.has(runtimeId);
  }

  /** The handle for an id; `invalid_id` or `runtime_not_found` otherwise. */
  get(runtimeId: string): RuntimeHandle {
    if (!isName(runtimeId)) {
      throw new ApiError("invalid_id", "Runtime ids match ^[a-z0-9][a-z0-9_-]{0,62}$.");
    }
    const h = this.#handles.get(runtimeId);
    if (!h) throw new ApiError("runtime_not_found", `Runtime ${runtimeId} is not registered.`);
    return h;
  }

  /** Live projection of every runtime, each bounded by the fan-out deadline. */
  async listRuntimes(): Promise<{ runtimes: RuntimeEntry[]; diagnostics: Diagnostic[] }> {
    const runtimes = await Promise.all(
      [...this.#handles.values()].map((h) =>
        this.#withDeadline((signal) => h.describe(signal)).catch((e) => offlineEntry(h, e))
      ),
    );
    return { runtimes, diagnostics: [...this.diagnostics] };
  }

  async describe(runtimeId: string): Promise<RuntimeEntry> {
    const h = this.get(runtimeId);
    return await this.#withDeadline((signal) => h.describe(signal)).catch((e) =>
      offlineEntry(h, e)
    );
  }

  /** Workers of every runtime; a runtime that misses the deadline adds one diagnostic. */
  async listWorkers(): Promise<{ workers: WorkerSummary[]; diagnostics: Diagnostic[] }> {
    const results = await Promise.all(
      [...this.#handles.values()].map(async (h) => {
        try {
          return await this.#withDeadline((signal) => h.listWorkers(signal));
        } catch (e) {
          return { workers: [], diagnostics: [failureDiagnostic(h.runtimeId, e)] };
        }
      }),
    );
    return {
      workers: results.flatMap((r) => r.workers),
      diagnostics: [...this.diagnostics, ...results.flatMap((r) => r.diagnostics)],
    };
  }

  /** Machines hosting runtimes; remote hosts are named by runtime id, never by address. */
  async hosts(): Promise<{ hosts: Host[]; diagnostics: Diagnostic[] }> {
    const { runtimes, diagnostics } = await this.listRuntimes();
    const hosts: Host[] = runtimes.map((r) =>
      r.kind === "embedded"
        ? {
          host_id: "local",
          kind: "local",
          display_name: "This machine (Backend host)",
          os: r.os,
          arch: r.arch,
          runtime_ids: [r.runtime_id],
        }
        : {
          host_id: `runtime:${r.runtime_id}`,
          kind: "remote",
          display_name: `Host of ${r.display_name}`,
          os: r.os,
          arch: r.arch,
          runtime_ids: [r.runtime_id],
        }
    );
    return { hosts, diagnostics };
  }

  async close(): Promise<void> {
    await Promise.all([...this.#handles.values()].map((h) => h.close().catch(() => {})));
  }

  #withDeadline<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const ac = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        // Settle the race first: aborting makes the call reject too, with a vaguer reason.
        reject(
          new ApiError(
            "remote_runtime_timeout",
            `did not answer within ${this.fanoutDeadlineMs} ms`,
          ),
        );
        ac.abort();
      }, this.fanoutDeadlineMs);
    });
    return Promise.race([fn(ac.signal), deadline]).finally(() => clearTimeout(timer));
  }
}

function failureDiagnostic(runtimeId: string, e: unknown): Diagnostic {
  if (e instanceof ApiError) {
    const msg = e.message.startsWith(`Runtime ${runtimeId}`) || e.message.includes(runtimeId)
      ? e.message
      : `Runtime ${runtimeId}: ${e.message}`;
    return diagnostic(e.code, msg);
  }
  return diagnostic("remote_runtime_unavailable", `Runtime ${runtimeId} could not be queried.`);
}

function offlineEntry(h: RuntimeHandle, e: unknown): RuntimeEntry {
  return {
    runtime_id: h.runtimeId,
    kind: h.kind,
    display_name: h.displayName,
    status: "unreachable",
    protocol: null,
    capabilities: null,
    profiles: [],
    worker_count: null,
    can_create_worker: false,
    os: null,
    arch: null,
    diagnostics: [failureDiagnostic(h.runtimeId, e)],
  };
}
