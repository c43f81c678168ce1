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
  type WorkerStatus,
  type WorkerSummary,
} from "../../shared/mod.ts";
import { type RemoteConfig } from "../settings/mod.ts";
import { RemoteRuntimeHandle } from "./remote_handle.ts";
import type { RuntimeHandle, WorkerList } from "./runtime_handle.ts";
import { type BodyCache, workerListBody } from "./worker_list_body.ts";
import type { JsonBody } from "./json_body.ts";

export interface RegistryOptions {
  /** Deadline for fan-out reads (`/api/workers`), in ms. */
  fanoutDeadlineMs?: number;
  /** Registry-level diagnostics, e.g. an unparsable config file. */
  diagnostics?: Diagnostic[];
  /** Builds the handle of a remote connection added or re-added live. */
  createRemote?: (
    cfg: RemoteConfig,
    onChange: () => void,
    onWorkersChange: () => void,
  ) => RemoteRuntimeHandle;
  /** Periodic health checks of remote runtimes, ms (0: off). */
  healthIntervalMs?: number;
}

/** What {@link RuntimeRegistry.apply} changed. */
export interface ApplyResult {
  added: string[];
  changed: string[];
  removed: string[];
}

export class RuntimeRegistry {
  #handles = new Map<string, RuntimeHandle>();
  readonly fanoutDeadlineMs: number;
  diagnostics: Diagnostic[];
  readonly healthIntervalMs: number;
  #createRemote?: RegistryOptions["createRemote"];
  #version = 0;
  /** The last `/api/workers` answer per status filter (at most five). */
  readonly #bodies: BodyCache = new Map();
  #listeners = new Set<() => void>();
  #workerListeners = new Set<() => void>();

  constructor(handles: RuntimeHandle[], opts: RegistryOptions = {}) {
    this.fanoutDeadlineMs = opts.fanoutDeadlineMs ?? 2000;
    this.diagnostics = [...(opts.diagnostics ?? [])];
    this.healthIntervalMs = opts.healthIntervalMs ?? 0;
    this.#createRemote = opts.createRemote;
    for (const h of handles) this.#register(h);
  }

  /** Increases on every change of membership, configuration, state or health. */
  get version(): number {
    return this.#version;
  }

  /** Calls `fn` after every change; returns the unsubscribe function. */
  onChange(fn: () => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** Calls `fn` when a runtime's list feed reports changed workers; returns the unsubscribe. */
  onWorkersChange(fn: () => void): () => void {
    this.#workerListeners.add(fn);
    return () => this.#workerListeners.delete(fn);
  }

  #workersChanged = () => {
    for (const fn of this.#workerListeners) {
      try {
        fn();
      } catch { /* a listener's failure is its own */ }
    }
  };

  #changed = () => {
    this.#version++;
    for (const fn of this.#listeners) {
      try {
        fn();
      } catch { /* a listener's failure is its own */ }
    }
  };

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

  /** The remote handle for an id, or undefined (the embedded runtime is not remote). */
  remote(runtimeId: string): RemoteRuntimeHandle | undefined {
    const h = this.#handles.get(runtimeId);
    return h instanceof RemoteRuntimeHandle ? h : undefined;
  }

  /** The configurations of every live remote connection. */
  remoteConfigs(): RemoteConfig[] {
    return [...this.#handles.values()].flatMap((h) =>
      h instanceof RemoteRuntimeHandle ? [h.config] : []
    );
  }

  /** Starts periodic health checks of every remote runtime (each checks at once). */
  startHealth(): void {
    for (const h of this.#handles.values()) {
      if (h instanceof RemoteRuntimeHandle) h.startHealth(this.healthIntervalMs);
    }
  }

  /** Checks every remote runtime now, in parallel ("Test all"). */
  async checkAll(): Promise<void> {
    await Promise.all(
      [...this.#handles.values()].map((h) =>
        h instanceof RemoteRuntimeHandle ? h.check() : undefined
      ),
    );
  }

  /**
   * Adds or reconfigures one remote connection live; resolves once its first check ended
   * or `waitMs` passed, so an answer can show a state.
   */
  async upsert(cfg: RemoteConfig, waitMs = 1000): Promise<RemoteRuntimeHandle> {
    const h = this.#upsertNow(cfg);
    let t: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([h.check(), new Promise((r) => t = setTimeout(r, waitMs))]);
    clearTimeout(t);
    return h;
  }

  #upsertNow(cfg: RemoteConfig): RemoteRuntimeHandle {
    const existing = this.#handles.get(cfg.id);
    if (existing instanceof RemoteRuntimeHandle) {
      if (!sameConfig(existing.config, cfg)) existing.reconfigure(cfg);
      return existing;
    }
    if (existing) throw new ApiError("duplicate_runtime_id", `"${cfg.id}" is already used.`);
    if (!this.#createRemote) {
      throw new ApiError("internal_error", "This registry cannot add runtimes live.");
    }
    const h = this.#createRemote(cfg, this.#changed, this.#workersChanged);
    this.#register(h);
    h.startHealth(this.healthIntervalMs);
    if (this.healthIntervalMs <= 0) h.check().catch(() => {});
    this.#changed();
    return h;
  }

  /** Removes a remote connection live: its calls get 404, its streams `runtime_removed`. */
  remove(runtimeId: string): boolean {
    const h = this.#handles.get(runtimeId);
    if (!(h instanceof RemoteRuntimeHandle)) return false;
    this.#handles.delete(runtimeId);
    h.remove();
    this.#changed();
    return true;
  }

  /** Makes the remote connections equal to `remotes` (a hand edit of the config file). */
  apply(remotes: RemoteConfig[]): ApplyResult {
    const result: ApplyResult = { added: [], changed: [], removed: [] };
    const wanted = new Map(remotes.map((r) => [r.id, r]));
    for (const [id, h] of this.#handles) {
      if (h instanceof RemoteRuntimeHandle && !wanted.has(id)) {
        this.remove(id);
        result.removed.push(id);
      }
    }
    for (const cfg of remotes) {
      const h = this.#handles.get(cfg.id);
      if (h && !(h instanceof RemoteRuntimeHandle)) continue; // the embedded id is never remote
      if (h && sameConfig(h.config, cfg)) continue;
      (h ? result.changed : result.added).push(cfg.id);
      this.#upsertNow(cfg);
    }
    return result;
  }

  #register(h: RuntimeHandle) {
    this.#handles.set(h.runtimeId, h);
  }

  /** Live projection of every runtime; remote entries come from the last health checks. */
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

  /**
   * Workers of every runtime; nothing fetched from a runtime that is not `ready` (a verified
   * runtime that became unreachable contributes its last-known workers as `stale`). A
   * runtime that misses the deadline or is refused adds one diagnostic with its state.
   * `texts` holds each worker's JSON text in `workers` order (kept by the handles, so a
   * caller comparing lists need not serialise them again).
   */
  async listWorkers(
    status?: WorkerStatus,
  ): Promise<{ workers: WorkerSummary[]; diagnostics: Diagnostic[]; texts: string[] }> {
    const results = await this.#listAll(status);
    return {
      workers: results.flatMap((r) => r.workers),
      diagnostics: [...this.diagnostics, ...results.flatMap((r) => r.diagnostics)],
      texts: results.flatMap((r) => r.texts ?? r.workers.map((w) => JSON.stringify(w))),
    };
  }

  /**
   * `GET /api/workers` as bytes: {@link listWorkers} assembled from each runtime's kept JSON
   * text (issue 15) instead of parsing and re-serialising every worker per request. When
   * every part is the one of the last answer (each runtime answered 304), the last bytes are
   * sent again.
   */
  async listWorkersBody(status?: WorkerStatus): Promise<JsonBody> {
    return workerListBody(await this.#listAll(status), this.diagnostics, this.#bodies, status);
  }

  #listAll(status?: WorkerStatus): Promise<WorkerList[]> {
    return Promise.all(
      [...this.#handles.values()].map(async (h) => {
        try {
          return h.listKept?.(status) ??
            await this.#withDeadline((signal) => h.listWorkers(signal, status));
        } catch (e) {
          return { workers: [], diagnostics: [failureDiagnostic(h, e)] };
        }
      }),
    );
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
    this.#listeners.clear();
    this.#workerListeners.clear();
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

function sameConfig(a: RemoteConfig, b: RemoteConfig): boolean {
  return a.id === b.id && a.endpoint === b.endpoint && a.display_name === b.display_name &&
    a.token_ref === b.token_ref;
}

function failureDiagnostic(h: RuntimeHandle, e: unknown): Diagnostic {
  const runtimeId = h.runtimeId;
  const state = h instanceof RemoteRuntimeHandle ? ` (state: ${h.state})` : "";
  if (e instanceof ApiError) {
    const msg = e.message.startsWith(`Runtime ${runtimeId}`) || e.message.includes(runtimeId)
      ? e.message
      : `Runtime ${runtimeId}: ${e.message}`;
    return { ...diagnostic(e.code, `${msg}${state}`), runtime_id: runtimeId };
  }
  return {
    ...diagnostic("remote_runtime_unavailable", `Runtime ${runtimeId} could not be queried.`),
    runtime_id: runtimeId,
  };
}

function offlineEntry(h: RuntimeHandle, e: unknown): RuntimeEntry {
  const health = h instanceof RemoteRuntimeHandle ? h.health() : null;
  return {
    state: health?.state ?? "unreachable",
    last_checked_at: health?.last_checked_at ?? null,
    last_ok_at: health?.last_ok_at ?? null,
    latency_ms: health?.latency_ms ?? null,
    health_history: health?.health_history ?? [],
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
    diagnostics: [failureDiagnostic(h, e)],
  };
}
