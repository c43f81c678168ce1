/**
 * Runtime connection settings routes (DESIGN §6, §10): list, add, edit,
 * delete, test (saved or candidate). Every change is saved to the config file
 * and applied to the live registry at once; only `[server]` keys still need a
 * restart. Handlers stay thin over ConnectionStore and RuntimeRegistry.
 * @module
 */
import {
  ApiError,
  type ConnectionRow,
  type Diagnostic,
  diagnostic,
  EMBEDDED_RUNTIME_ID,
  type ProbeResult,
  PROTOCOL_NAME,
  PROTOCOL_VERSION,
} from "../../shared/mod.ts";
import type { BackendRoutes, Handlers } from "../../shared/routes/mod.ts";
import {
  assertEndpointAllowed,
  assertRuntimeIdParam,
  type ConnectionStore,
  type Lookup,
  type RemoteConfig,
  type TokenRefPolicy,
  validateCandidate,
  validateConnectionEdit,
  validateNewConnection,
} from "../settings/mod.ts";
import { type CapabilityMinter, probeRemote, type RuntimeRegistry } from "../registry/mod.ts";

/** The config file as the Backend last read it (kept current by the config watcher). */
export interface LiveConfigState {
  ok: boolean;
  diagnostics: Diagnostic[];
  /** `[server]` keys whose file value differs from the running one. */
  restartRequiredKeys: string[];
}

export interface SettingsDeps {
  store: ConnectionStore;
  registry: RuntimeRegistry;
  config: () => LiveConfigState;
  /** Which token_refs may be saved, tested and resolved (DESIGN §8). */
  tokenPolicy?: TokenRefPolicy;
  /** Resolver for the endpoint target policy (default: the system resolver). */
  lookup?: Lookup;
  /** Capability tokens for connections without token_ref (DESIGN §8). */
  capabilities?: CapabilityMinter;
  probeTimeoutMs?: number;
}

/** The operations handled here. */
export type SettingsOperation = Extract<keyof BackendRoutes, `connection.${string}`>;

function refuseEmbedded(id: string, what: string): void {
  if (id === EMBEDDED_RUNTIME_ID) {
    throw new ApiError(
      "runtime_not_config_managed",
      `The embedded runtime is built in and cannot be ${what}.`,
    );
  }
}

/** A short, stable tag of a body for conditional polling. */
function etagOf(text: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
  }
  return `W/"${(h1 >>> 0).toString(16)}${(h2 >>> 0).toString(16)}-${text.length}"`;
}

/** The runtime connection handlers. */
export function settingsHandlers(
  deps: SettingsDeps,
): Pick<Handlers<BackendRoutes>, SettingsOperation> {
  const { store, registry } = deps;
  const probeOpts = {
    policy: deps.tokenPolicy,
    timeoutMs: deps.probeTimeoutMs,
    lookup: deps.lookup,
    capabilities: deps.capabilities,
  };

  const remoteRow = (cfg: RemoteConfig, persisted: boolean): ConnectionRow => {
    const h = registry.remote(cfg.id);
    const health = h?.health() ?? {
      state: "connecting" as const,
      last_checked_at: null,
      last_ok_at: null,
      latency_ms: null,
      worker_count: null,
      health_history: [],
    };
    return {
      ...health,
      id: cfg.id,
      kind: "remote",
      display_name: cfg.display_name ?? cfg.id,
      endpoint: cfg.endpoint,
      token_ref: cfg.token_ref ?? null,
      built_in: false,
      deletable: persisted || h !== undefined,
      persisted,
      active: h !== undefined,
      restart_required: false,
      diagnostics: h?.stateDiagnostics() ?? [],
    };
  };

  const embeddedRow = async (): Promise<ConnectionRow> => {
    const e = await registry.describe(EMBEDDED_RUNTIME_ID);
    return {
      state: "ready",
      last_checked_at: e.last_checked_at,
      last_ok_at: e.last_ok_at,
      latency_ms: e.latency_ms,
      worker_count: e.worker_count,
      health_history: [],
      id: EMBEDDED_RUNTIME_ID,
      kind: "embedded",
      display_name: e.display_name,
      endpoint: null,
      token_ref: null,
      built_in: true,
      deletable: false,
      persisted: false,
      active: true,
      restart_required: false,
      diagnostics: [],
    };
  };

  /** The saved row of `id` (404 when the file has no such entry). */
  const savedConfig = async (id: string): Promise<RemoteConfig> => {
    const snap = await store.snapshot();
    if (!snap.ok) {
      throw new ApiError(
        "config_unparsable",
        "The config file must be fixed by hand first.",
        snap.diagnostics,
      );
    }
    const cfg = snap.remotes.find((r) => r.id === id);
    if (!cfg) throw new ApiError("runtime_not_found", `No runtime connection "${id}".`);
    return cfg;
  };

  const list: Handlers<BackendRoutes>["connection.list"] = async (_input, c) => {
    const snap = await store.snapshot();
    const live = deps.config();
    const rows: ConnectionRow[] = [await embeddedRow()];
    const listed = new Set<string>();
    for (const r of snap.remotes) {
      listed.add(r.id);
      rows.push(remoteRow(registry.remote(r.id)?.config ?? r, true));
    }
    // In the live registry but not (readably) in the file: a file that stopped parsing
    // keeps the last good registry serving.
    for (const cfg of registry.remoteConfigs()) {
      if (listed.has(cfg.id)) continue;
      // A file that does not parse: the row comes from the last file that did.
      const row = remoteRow(cfg, !snap.ok);
      if (!snap.ok) {
        row.diagnostics.push(diagnostic(
          "config_unparsable",
          "Running from the last good config; persisted state is unknown until the file is fixed.",
          "warning",
        ));
      }
      rows.push(row);
    }
    const list = {
      connections: rows,
      config_ok: snap.ok && live.ok,
      restart_required: live.restartRequiredKeys.length > 0,
      restart_required_keys: live.restartRequiredKeys,
      diagnostics: snap.ok ? snap.diagnostics : live.ok ? snap.diagnostics : live.diagnostics,
    };
    const text = JSON.stringify(list);
    // The embedded runtime is checked by being asked (its times are this request's), so they
    // are left out of the tag: otherwise no poll would ever be answered 304.
    const etag = etagOf(JSON.stringify({
      ...list,
      connections: rows.map((r) =>
        r.built_in ? { ...r, last_checked_at: null, last_ok_at: null } : r
      ),
    }));
    const headers = { etag, "cache-control": "no-cache" };
    if (c.req.header("if-none-match") === etag) {
      return new Response(null, { status: 304, headers });
    }
    return new Response(text, {
      status: 200,
      headers: { ...headers, "content-type": "application/json" },
    });
  };

  // Add and edit are documented from their schemas but parsed by hand, so a raw token field
  // is refused as `raw_token_rejected` and every field problem is reported, not just the first.
  const add: Handlers<BackendRoutes>["connection.add"] = async ({ json }) => {
    const entry = validateNewConnection(await json(), deps.tokenPolicy);
    await assertEndpointAllowed(entry.endpoint, { lookup: deps.lookup });
    await store.add(entry);
    await registry.upsert(entry);
    return {
      status: 201,
      body: { connection: remoteRow(entry, true), applied: true, restart_required: false },
    };
  };

  const edit: Handlers<BackendRoutes>["connection.edit"] = async ({ params, json }) => {
    const { id } = params;
    refuseEmbedded(id, "edited");
    assertRuntimeIdParam(id);
    const raw = await json();
    const current = await savedConfig(id);
    const next = validateConnectionEdit(raw, current, deps.tokenPolicy);
    if (next.endpoint !== current.endpoint) {
      await assertEndpointAllowed(next.endpoint, { lookup: deps.lookup });
    }
    await store.edit(next);
    await registry.upsert(next);
    return {
      status: 200,
      body: { connection: remoteRow(next, true), applied: true, restart_required: false },
    };
  };

  const remove: Handlers<BackendRoutes>["connection.delete"] = async ({ params, query }) => {
    const { id } = params;
    const force = query.force === "true";
    refuseEmbedded(id, "deleted");
    assertRuntimeIdParam(id);
    const h = registry.remote(id);
    if (h && h.state === "ready" && !force) {
      // A runtime that cannot list right now is not known to be in use.
      const workers = (await h.listWorkers().catch(() => ({ workers: [] }))).workers;
      const busy = workers.filter((w) => w.status !== "stopped" && !w.stale).length;
      if (busy > 0) {
        throw new ApiError(
          "runtime_in_use",
          `Runtime ${id} still has ${busy} worker${busy === 1 ? "" : "s"} that ` +
            `${busy === 1 ? "is" : "are"} not stopped; deleting it anyway leaves ` +
            `${busy === 1 ? "that worker" : "them"} running there, out of reach from here.`,
        );
      }
    }
    try {
      await store.remove(id);
    } catch (e) {
      // Already gone from the file (a hand edit the watcher has not applied yet): still
      // take it out of the registry.
      if (!(e instanceof ApiError && e.code === "runtime_not_found" && h)) throw e;
    }
    registry.remove(id);
    return { status: 200, body: { deleted: id, applied: true, restart_required: false } };
  };

  const test: Handlers<BackendRoutes>["connection.test"] = async ({ params }) => {
    const { id } = params;
    assertRuntimeIdParam(id);
    if (id === EMBEDDED_RUNTIME_ID) return { status: 200, body: await embeddedProbe() };
    const h = registry.remote(id);
    const cfg = h?.config ?? (await savedConfig(id));
    const probe = await probeRemote(cfg, probeOpts);
    h?.check().catch(() => {}); // the row's state follows the test
    return { status: 200, body: probe };
  };

  const testCandidate: Handlers<BackendRoutes>["connection.test_candidate"] = async (
    { json },
  ) => {
    const cfg = validateCandidate(await json(), deps.tokenPolicy);
    await assertEndpointAllowed(cfg.endpoint, { lookup: deps.lookup });
    return { status: 200, body: await probeRemote(cfg, probeOpts) };
  };

  async function embeddedProbe(): Promise<ProbeResult> {
    const s = await registry.describe(EMBEDDED_RUNTIME_ID);
    return {
      runtime_id: EMBEDDED_RUNTIME_ID,
      checked_at: new Date().toISOString(),
      latency_ms: 0,
      reachable: true,
      authenticated: true,
      identity: { status: "match", observed_runtime_id: EMBEDDED_RUNTIME_ID },
      protocol: {
        compatible: true,
        basis: "embedded runtime: same process and library version as the Backend",
        name: PROTOCOL_NAME,
        version: PROTOCOL_VERSION,
      },
      observed: {
        runtime_id: EMBEDDED_RUNTIME_ID,
        display_name: s.display_name,
        status: s.status,
        profiles: s.profiles,
      },
      operations: {
        list_workers: "supported",
        worker_detail: "supported",
        events_ws: "supported",
        create_worker: "supported",
        input: "supported",
        stop: "supported",
        cancel: "supported",
        transcript: "supported",
      },
      diagnostics: [],
    };
  }

  return {
    "connection.list": list,
    "connection.add": add,
    "connection.edit": edit,
    "connection.delete": remove,
    "connection.test": test,
    "connection.test_candidate": testCandidate,
  };
}
