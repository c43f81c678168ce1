/**
 * Runtime connection settings routes (DESIGN §6): list, add, delete, test.
 * The live registry is not changed here; every mutation answers
 * `restart_required: true` and every row says what is persisted and active.
 * @module
 */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import {
  AddConnectionRequestSchema,
  AddConnectionResponseSchema,
  ApiError,
  ConnectionListSchema,
  type ConnectionRow,
  DeleteConnectionResponseSchema,
  diagnostic,
  EMBEDDED_RUNTIME_ID,
  ErrorBodySchema,
  isName,
  parseJsonBody,
  type ProbeResult,
  ProbeResultSchema,
  PROTOCOL_NAME,
  PROTOCOL_VERSION,
} from "../shared/mod.ts";
import type { RemoteConfig } from "./config.ts";
import { type ConnectionStore, validateNewConnection } from "./connection_store.ts";
import { probeRemote } from "./probe.ts";
import type { RuntimeRegistry } from "./registry.ts";

export interface SettingsDeps {
  store: ConnectionStore;
  registry: RuntimeRegistry;
  /** The remote configs the live registry was built from (endpoint as typed). */
  active: Map<string, RemoteConfig>;
  env?: (name: string) => string | undefined;
  probeTimeoutMs?: number;
}

const json = <S extends z.ZodType>(schema: S, description: string) => ({
  description,
  content: { "application/json": { schema } },
});
const IdParams = z.object({ id: z.string() });
const BASE = "/api/settings/runtime-connections";

const routes = {
  list: createRoute({
    method: "get",
    path: BASE,
    summary: "Embedded runtime plus persisted remote connections joined with live registry state",
    responses: { 200: json(ConnectionListSchema, "Connections") },
  }),
  add: createRoute({
    method: "post",
    path: BASE,
    summary: "Persist a remote runtime connection (applies after a Backend restart)",
    request: {
      body: { content: { "application/json": { schema: AddConnectionRequestSchema } } },
    },
    responses: {
      201: json(AddConnectionResponseSchema, "Saved"),
      400: json(ErrorBodySchema, "Invalid field (see diagnostics)"),
      409: json(ErrorBodySchema, "Duplicate id or unparsable config file"),
    },
  }),
  remove: createRoute({
    method: "delete",
    path: `${BASE}/{id}`,
    request: { params: IdParams },
    responses: {
      200: json(DeleteConnectionResponseSchema, "Removed from the config file"),
      404: json(ErrorBodySchema, "No such connection"),
      409: json(ErrorBodySchema, "Built-in runtime or unparsable config file"),
    },
  }),
  test: createRoute({
    method: "post",
    path: `${BASE}/{id}/test`,
    summary: "Negotiation probe; nothing from it is persisted",
    request: { params: IdParams },
    responses: {
      200: json(ProbeResultSchema, "Probe result"),
      404: json(ErrorBodySchema, "No such connection"),
    },
  }),
};

/** Registers the settings routes on `app`. */
export function registerSettingsRoutes(app: OpenAPIHono, deps: SettingsDeps): void {
  const { store, registry, active } = deps;

  const remoteRow = (cfg: RemoteConfig, persisted: boolean): ConnectionRow => {
    const live = active.get(cfg.id);
    const isActive = live !== undefined;
    const same = isActive && live.endpoint === cfg.endpoint && live.token_ref === cfg.token_ref &&
      live.display_name === cfg.display_name;
    return {
      id: cfg.id,
      kind: "remote",
      display_name: cfg.display_name ?? cfg.id,
      endpoint: cfg.endpoint,
      token_ref: cfg.token_ref ?? null,
      built_in: false,
      deletable: persisted,
      persisted,
      active: isActive,
      restart_required: !(persisted && same),
      diagnostics: [],
    };
  };

  app.openapi(routes.list, async (c) => {
    const snap = await store.snapshot();
    const embedded = registry.get(EMBEDDED_RUNTIME_ID);
    const rows: ConnectionRow[] = [{
      id: EMBEDDED_RUNTIME_ID,
      kind: "embedded",
      display_name: embedded.displayName,
      endpoint: null,
      token_ref: null,
      built_in: true,
      deletable: false,
      persisted: false,
      active: true,
      restart_required: false,
      diagnostics: [],
    }];
    const persisted = new Set<string>();
    for (const r of snap.remotes) {
      persisted.add(r.id);
      rows.push(remoteRow(r, true));
    }
    if (snap.ok) {
      // Deleted from the file but still in the live registry until restart.
      for (const [id, cfg] of active) if (!persisted.has(id)) rows.push(remoteRow(cfg, false));
    } else {
      for (const [, cfg] of active) {
        const row = remoteRow(cfg, false);
        row.restart_required = false;
        row.diagnostics.push(
          diagnostic(
            "config_unparsable",
            "Persisted state is unknown until the file is fixed.",
            "warning",
          ),
        );
        rows.push(row);
      }
    }
    return c.json({
      connections: rows,
      config_ok: snap.ok,
      restart_required: rows.some((r) => r.restart_required),
      diagnostics: snap.diagnostics,
    }, 200);
  });

  // Documented from its schema but parsed by hand, so a raw token field is refused as
  // `raw_token_rejected` and every field problem is reported, not just the first.
  app.openAPIRegistry.registerPath(routes.add);
  app.post(BASE, async (c) => {
    const raw = await parseJsonBody(c.req.raw, z.unknown());
    const entry = validateNewConnection(raw);
    await store.add(entry);
    return c.json({ connection: remoteRow(entry, true), restart_required: true as const }, 201);
  });

  app.openapi(routes.remove, async (c) => {
    const { id } = c.req.valid("param");
    if (id === EMBEDDED_RUNTIME_ID) {
      throw new ApiError(
        "runtime_not_config_managed",
        "The embedded runtime is built in and cannot be deleted.",
      );
    }
    if (!isName(id)) {
      throw new ApiError("invalid_id", "Runtime ids match ^[a-z0-9][a-z0-9_-]{0,62}$.");
    }
    await store.remove(id);
    return c.json({ deleted: id, restart_required: true as const }, 200);
  });

  app.openapi(routes.test, async (c) => {
    const { id } = c.req.valid("param");
    if (!isName(id)) {
      throw new ApiError("invalid_id", "Runtime ids match ^[a-z0-9][a-z0-9_-]{0,62}$.");
    }
    if (id === EMBEDDED_RUNTIME_ID) return c.json(await embeddedProbe(), 200);
    const snap = await store.snapshot();
    const cfg = snap.remotes.find((r) => r.id === id) ?? active.get(id);
    if (!cfg) throw new ApiError("runtime_not_found", `No runtime connection "${id}".`);
    return c.json(
      await probeRemote(cfg, { env: deps.env, timeoutMs: deps.probeTimeoutMs }),
      200,
    );
  });

  async function embeddedProbe(): Promise<ProbeResult> {
    const s = await registry.describe(EMBEDDED_RUNTIME_ID);
    return {
      runtime_id: EMBEDDED_RUNTIME_ID,
      checked_at: new Date().toISOString(),
      reachable: true,
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
}
