/**
 * Assembles the Workspace Backend: embedded Runtime, remote runtimes from the
 * config file, security guards, audit log and the `/api` routes.
 * @module
 */
import { Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { ApiError, EMBEDDED_RUNTIME_ID, errorResponse, MAX_BODY_BYTES } from "../../shared/mod.ts";
import {
  FsStore,
  MemoryStore,
  parseRuntimeConfig,
  Runtime,
  type RuntimeConfig,
} from "../../runtime/mod.ts";
import {
  BACKEND_ROUTES,
  backendOpenApiDocument,
  registerRoutes,
  servedFrom,
  unrouted,
} from "../../shared/routes/mod.ts";
import { apiHandlers } from "./api.ts";
import { OpenStreams } from "./events_proxy.ts";
import { LiveHub, type LiveHubOptions } from "./live_hub.ts";
import { auditConfigIntent, AuditLog, auditMutations } from "./audit.ts";
import {
  type BackendConfig,
  configFileName,
  ConfigWatcher,
  ConnectionStore,
  loadBackendConfig,
  parseBackendConfig,
  type RemoteConfig,
  type TokenRefPolicy,
} from "../settings/mod.ts";
import {
  type BackendKey,
  CapabilityMinter,
  DEFAULT_HEALTH_INTERVAL_MS,
  DEFAULT_TIMEOUT_MS,
  EmbeddedRuntimeHandle,
  loadOrCreateBackendKey,
  RemoteRuntimeHandle,
  RuntimeRegistry,
} from "../registry/mod.ts";
import { log as defaultLog } from "./log.ts";
import { type LiveConfigState, settingsHandlers } from "./settings_api.ts";
import { AdminSessions } from "./admin_session.ts";
import { adminTokenGuard, allowedHosts, csrfGuard, guards, principalOf } from "./security.ts";

/** Reported by `GET /api/backend`. */
export const BACKEND_VERSION = "0.1.0";

export interface BackendOptions {
  /** Workspace state folder (config, audit log, embedded runtime data). Default `.yoi`. */
  stateDir?: string;
  /** Config file; default `<stateDir>/workspace-backend.local.toml`. */
  configPath?: string;
  /** Port the server is bound to (for the Host allowlist and same-origin checks). */
  port: number;
  /** Host the server is bound to (shown on the Backend settings page). */
  listenHost?: string;
  /** Required on every `/api` request when set (mandatory beyond loopback). */
  adminToken?: string;
  /** Embedded runtime store: "fs" under `<stateDir>/runtime-data/embedded` (default) or "memory". */
  embeddedStore?: "fs" | "memory";
  /** Runtime config (TOML text) for the embedded runtime's profiles. */
  embeddedConfig?: string;
  fanoutDeadlineMs?: number;
  remoteTimeoutMs?: number;
  /** Timeout of the settings negotiation probe, ms (default 3000). */
  probeTimeoutMs?: number;
  /** Backoff for remote event stream reconnects, ms. */
  reconnectBackoffMs?: number[];
  /** Periodic health checks of remote runtimes, ms (0: off); overrides the config file. */
  healthIntervalMs?: number;
  /** How often the config file is re-read for hand edits, ms (default 500). */
  configPollMs?: number;
  env?: (name: string) => string | undefined;
  /**
   * Page paths served without a session even when an admin token guards the pages (the login
   * form's stylesheet and scripts); supplied by whoever mounts the pages.
   */
  isPublicPage?: (path: string, method: string) => boolean;
  /** An already-loaded config (otherwise read from `configPath`). */
  config?: BackendConfig;
  /**
   * The capability-token key; default: `<stateDir>/backend-key`, created when missing.
   * `null`: no key (connections without token_ref send no credential).
   */
  backendKey?: BackendKey | null;
  /** `GET /api/live`'s timing (tests set a long tick to see what else moves the lists). */
  live?: LiveHubOptions;
}

export interface Backend {
  /** The `/api` app with every guard; pages are mounted on it by the composition root. */
  app: Hono;
  registry: RuntimeRegistry;
  /** Browser login sessions (DESIGN §8), shared with the login page. */
  sessions: AdminSessions;
  embedded: Runtime;
  config: BackendConfig;
  close(): Promise<void>;
}

/** A body sent without a JSON content type would be silently ignored by validation; refuse it. */
const requireJsonBody: MiddlewareHandler = async (c, next) => {
  const hasBody = c.req.method !== "GET" && c.req.method !== "HEAD" &&
    (Number(c.req.header("content-length") ?? "0") > 0 || c.req.header("transfer-encoding"));
  const type = c.req.header("content-type") ?? "";
  if (hasBody && !/^application\/json\b/i.test(type)) {
    throw new ApiError("invalid_request", "Request bodies must be sent as application/json.");
  }
  await next();
};

/** `[server]` keys that differ between the config the Backend started with and `next`. */
function serverKeysChanged(started: BackendConfig, next: BackendConfig): string[] {
  const keys: string[] = [];
  if (started.listen !== next.listen) keys.push("listen");
  if (JSON.stringify(started.allowedHosts) !== JSON.stringify(next.allowedHosts)) {
    keys.push("allowed_hosts");
  }
  if (started.healthIntervalMs !== next.healthIntervalMs) keys.push("health_interval_ms");
  if (JSON.stringify(started.tokenEnvAllow) !== JSON.stringify(next.tokenEnvAllow)) {
    keys.push("token_env_allow");
  }
  return keys;
}

async function settleWithin(p: Promise<unknown>, ms: number): Promise<void> {
  let t: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([p.catch(() => {}), new Promise((r) => t = setTimeout(r, ms))]);
  clearTimeout(t);
}

async function readOrNull(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch {
    return null;
  }
}

export async function createBackend(opts: BackendOptions): Promise<Backend> {
  const stateDir = opts.stateDir ?? ".yoi";
  const configPath = opts.configPath ?? `${stateDir}/workspace-backend.local.toml`;
  const config = opts.config ?? await loadBackendConfig(configPath);
  const log = defaultLog;

  let embeddedCfg: RuntimeConfig = { profiles: {} };
  if (opts.embeddedConfig) embeddedCfg = parseRuntimeConfig(opts.embeddedConfig);
  const embedded = await Runtime.open({
    runtimeId: EMBEDDED_RUNTIME_ID,
    displayName: embeddedCfg.display_name ?? "Embedded runtime",
    store: opts.embeddedStore === "memory"
      ? new MemoryStore()
      : new FsStore(`${stateDir}/runtime-data/${EMBEDDED_RUNTIME_ID}`),
    profiles: embeddedCfg.profiles,
    defaultProfile: embeddedCfg.default_profile,
    // Tools of `openai` workers act only inside their own folder here.
    workspaceRoot: `${stateDir}/runtime-data/${EMBEDDED_RUNTIME_ID}/workspaces`,
  });

  // token_env_allow is a [server] key: read once at start (a change needs a restart).
  const tokenPolicy: TokenRefPolicy = {
    envAllow: config.tokenEnvAllow,
    secretsDir: `${stateDir}/secrets`,
    env: opts.env,
  };
  // The Backend's own key: connections without token_ref authenticate with capability tokens.
  const backendKey = opts.backendKey === null
    ? null
    : opts.backendKey ?? await loadOrCreateBackendKey(stateDir);
  const capabilities = backendKey ? new CapabilityMinter(backendKey) : undefined;
  const createRemote = (cfg: RemoteConfig, onChange: () => void, onWorkersChange: () => void) =>
    new RemoteRuntimeHandle(cfg, {
      timeoutMs: opts.remoteTimeoutMs,
      tokenPolicy,
      capabilities,
      backoffMs: opts.reconnectBackoffMs,
      onChange,
      onWorkersChange,
    });
  const registry = new RuntimeRegistry([new EmbeddedRuntimeHandle(embedded)], {
    fanoutDeadlineMs: opts.fanoutDeadlineMs,
    diagnostics: [...config.diagnostics],
    createRemote,
    healthIntervalMs: opts.healthIntervalMs ?? config.healthIntervalMs ??
      DEFAULT_HEALTH_INTERVAL_MS,
  });
  registry.apply(config.remotes);
  registry.startHealth();
  // Serve the first request with the truth: wait (bounded) for the first checks.
  await settleWithin(registry.checkAll(), 1000);

  // The config file as last read: hand edits apply live; a file that stops parsing keeps
  // the last good registry serving and blocks mutations until it parses again.
  const liveConfig: LiveConfigState = {
    ok: config.parsed,
    diagnostics: config.diagnostics,
    restartRequiredKeys: [],
  };
  const fileName = configFileName(configPath);
  const watcher = new ConfigWatcher(configPath, (text) => {
    const next = parseBackendConfig(text ?? "", fileName);
    liveConfig.ok = next.parsed;
    liveConfig.diagnostics = next.diagnostics;
    registry.diagnostics = [...next.diagnostics];
    if (!next.parsed) {
      for (const d of next.diagnostics) log.warn("config.unparsable", { ...d });
      return;
    }
    liveConfig.restartRequiredKeys = serverKeysChanged(config, next);
    const applied = registry.apply(next.remotes);
    if (applied.added.length || applied.changed.length || applied.removed.length) {
      log.info("config.applied", { ...applied });
    }
  }, { intervalMs: opts.configPollMs, initial: await readOrNull(configPath) });
  watcher.start();
  const audit = new AuditLog(`${stateDir}/audit.log`);

  const app = new Hono();
  const onError = (err: Error): Response => {
    if (err instanceof ApiError) return errorResponse(err);
    if (err instanceof HTTPException && err.status === 400) {
      return errorResponse(new ApiError("invalid_json", "Request body is not valid JSON."));
    }
    log.error("api.unexpected_error", { error: err });
    return errorResponse(new ApiError("internal_error", "The Backend hit an unexpected error."));
  };
  app.onError(onError);
  // A known `/api` path with another method: 405 + Allow (DESIGN §4's rule, from the table).
  app.notFound((c) => unrouted(BACKEND_ROUTES, c.req.path));

  const hosts = { port: opts.port, extraHosts: config.allowedHosts, listenHost: opts.listenHost };
  // With an admin token (listening beyond loopback) pages are guarded too: they show the same data.
  // Browser login (DESIGN §8): the session cookie counts like the bearer token.
  const sessions = new AdminSessions();
  const isPublic = (path: string, method: string) =>
    path === "/login" || (method === "POST" && path === "/logout") ||
    (opts.isPublicPage?.(path, method) ?? false);
  const admin = opts.adminToken !== undefined
    ? [adminTokenGuard(opts.adminToken, { sessions, isPublic })]
    : [];
  const csrf = csrfGuard(hosts);
  const live = new LiveHub(registry, opts.live);
  /** Open lists refresh right after a worker changes through this Backend. */
  const nudgeLive = (operation: string, ok: boolean) => {
    if (ok && operation.startsWith("worker.")) live.nudgeWorkers();
  };
  // One middleware for every guard, in the order separate layers had: Host allowlist; for
  // `/api` the audit line (around everything after it), admin token, CSRF, JSON bodies, the
  // body limit and — after the guards and the body limit, so a refused request is never
  // "started" — the config-mutation intent line; for pages admin token and CSRF.
  app.use(
    "*",
    guards(hosts, {
      api: [
        auditMutations(audit, principalOf, nudgeLive),
        ...admin,
        csrf,
        requireJsonBody,
        bodyLimit({
          maxSize: MAX_BODY_BYTES,
          onError: () =>
            errorResponse(
              new ApiError("body_too_large", `Request body exceeds ${MAX_BODY_BYTES} bytes.`),
            ),
        }),
        auditConfigIntent(audit, principalOf),
      ],
      page: [...admin, csrf],
      readsPass: admin.length === 0,
      onError,
    }),
  );

  const startedAt = new Date().toISOString();
  const configState = () => ({ ok: liveConfig.ok, diagnostics: liveConfig.diagnostics });
  const streams = new OpenStreams();
  const apiRoutes = apiHandlers({
    registry,
    streams,
    live,
    info: () => ({
      version: BACKEND_VERSION,
      started_at: startedAt,
      listen: `${opts.listenHost ?? "127.0.0.1"}:${opts.port}`,
      allowed_hosts: [...allowedHosts(hosts)],
      admin_token_required: opts.adminToken !== undefined,
      fanout_deadline_ms: registry.fanoutDeadlineMs,
      remote_timeout_ms: opts.remoteTimeoutMs ?? DEFAULT_TIMEOUT_MS,
      embedded_store: opts.embeddedStore ?? "fs",
      config_ok: configState().ok,
      health_interval_ms: registry.healthIntervalMs,
      public_key: backendKey?.publicKey ?? null,
      diagnostics: configState().diagnostics,
    }),
  });
  const settingsRoutes = settingsHandlers({
    store: new ConnectionStore(configPath),
    registry,
    config: () => liveConfig,
    tokenPolicy,
    capabilities,
    probeTimeoutMs: opts.probeTimeoutMs,
  });
  registerRoutes(app, BACKEND_ROUTES, {
    ...apiRoutes,
    ...settingsRoutes,
    "openapi.get": async (_in, c) => ({
      status: 200,
      body: servedFrom(await backendOpenApiDocument(), new URL(c.req.url).origin),
    }),
  });

  return {
    app,
    registry,
    sessions,
    embedded,
    config,
    async close() {
      await watcher.close();
      live.close();
      await registry.close();
      // Streams now end with `stream.ended {reason: "shutdown"}`: let those frames out.
      await streams.drain(1000);
      await audit.close();
    },
  };
}
