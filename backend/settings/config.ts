/**
 * Reading `.yoi/workspace-backend.local.toml`. A missing file means "embedded
 * only"; a file that does not parse is reported with line and column and the
 * Backend still starts with the embedded runtime.
 * @module
 */
import { parse, TomlError } from "smol-toml";
import { type Diagnostic, diagnostic, parseListen } from "../../shared/mod.ts";
import { type RemoteConfig, validateConfigEntry } from "./connection_input.ts";
import { findLayout } from "./toml_layout.ts";

export type { RemoteConfig } from "./connection_input.ts";

/** Where the Backend keeps its local config, relative to the workspace root. */
export const DEFAULT_CONFIG_PATH = ".yoi/workspace-backend.local.toml";
export const DEFAULT_LISTEN = "127.0.0.1:8787";

export interface BackendConfig {
  listen: string;
  /** Extra host names accepted in the `Host` header (DNS-rebinding defence). */
  allowedHosts: string[];
  remotes: RemoteConfig[];
  diagnostics: Diagnostic[];
  /** False when the file exists but does not parse: mutations are refused. */
  parsed: boolean;
  /** `[server] health_interval_ms`, when set and valid. */
  healthIntervalMs?: number;
  /** `[server] token_env_allow`: `env:` names allowed besides the `YOI_` prefix. */
  tokenEnvAllow: string[];
}

/**
 * How a config file is named in diagnostics: relative to the workspace when it is inside it,
 * else its base name — never an absolute local path (DESIGN §5).
 */
export function configFileName(path: string): string {
  const cwd = Deno.cwd();
  if (!path.startsWith("/")) return path.replace(/^\.\//, "");
  if (path.startsWith(`${cwd}/`)) return path.slice(cwd.length + 1);
  return path.slice(path.lastIndexOf("/") + 1);
}

/** A parse error as a diagnostic naming the file, line and column (never the text). */
export function tomlErrorDiagnostic(e: unknown, file?: string): Diagnostic {
  // The position is in the fields; the sentence does not repeat it.
  const d = diagnostic(
    "config_unparsable",
    e instanceof TomlError ? "The config file does not parse." : describeTomlError(e),
  );
  if (file) d.file = file;
  if (e instanceof TomlError) {
    d.line = e.line;
    d.column = e.column;
  }
  return d;
}

/** Describes a TOML parse error by line and column only (never the path or the text). */
export function describeTomlError(e: unknown): string {
  if (e instanceof TomlError) {
    return `config file does not parse at line ${e.line}, column ${e.column}`;
  }
  return "config file does not parse";
}

/** Parses config text. Invalid remote entries are skipped with a diagnostic each. */
export function parseBackendConfig(text: string, file?: string): BackendConfig {
  const cfg: BackendConfig = {
    listen: DEFAULT_LISTEN,
    allowedHosts: [],
    remotes: [],
    diagnostics: [],
    parsed: true,
    tokenEnvAllow: [],
  };
  let raw: Record<string, unknown>;
  try {
    // Integers beyond 2^53 (int64 extremes are valid TOML) parse as BigInt instead of failing.
    raw = parse(text, { integersAsBigInt: "asNeeded" }) as Record<string, unknown>;
  } catch (e) {
    cfg.parsed = false;
    cfg.diagnostics.push(tomlErrorDiagnostic(e, file));
    return cfg;
  }
  const server = raw.server as Record<string, unknown> | undefined;
  if (server && typeof server === "object") {
    if (typeof server.listen === "string") {
      try {
        parseListen(server.listen);
        cfg.listen = server.listen;
      } catch (e) {
        cfg.diagnostics.push(
          diagnostic("invalid_request", `[server] listen: ${(e as Error).message}`),
        );
      }
    }
    if (server.health_interval_ms !== undefined) {
      const n = server.health_interval_ms;
      if (typeof n === "number" && Number.isInteger(n) && n >= 0 && n <= 3_600_000) {
        cfg.healthIntervalMs = n;
      } else {
        cfg.diagnostics.push(diagnostic(
          "invalid_request",
          "[server] health_interval_ms must be an integer from 0 (off) to 3600000; ignored.",
        ));
      }
    }
    if (server.token_env_allow !== undefined) {
      const list = server.token_env_allow;
      if (
        Array.isArray(list) &&
        list.every((n) => typeof n === "string" && /^[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(n))
      ) {
        cfg.tokenEnvAllow = list as string[];
      } else {
        cfg.diagnostics.push(diagnostic(
          "invalid_request",
          "[server] token_env_allow must be a list of environment variable names; ignored.",
        ));
      }
    }
    if (Array.isArray(server.allowed_hosts)) {
      cfg.allowedHosts = server.allowed_hosts.filter((h): h is string => typeof h === "string");
    }
  }
  const runtimes = raw.runtimes as Record<string, unknown> | undefined;
  if (runtimes !== undefined && !Array.isArray(runtimes?.remote)) {
    // Runtimes in a shape the editor cannot read as entries: say where, instead of silence.
    const shape = findLayout(text).unsupported;
    if (shape) {
      const d = diagnostic(
        "config_unsupported_shape",
        `${shape.message[0].toUpperCase()}${shape.message.slice(1)}; its runtimes are not used.`,
        "warning",
      );
      if (file) d.file = file;
      d.line = shape.line;
      d.column = shape.column;
      cfg.diagnostics.push(d);
    }
  }
  const list = runtimes && Array.isArray(runtimes.remote) ? runtimes.remote : [];
  const seen = new Set<string>();
  list.forEach((raw, i) => {
    const where = `[[runtimes.remote]] #${i + 1}`;
    const r = validateConfigEntry(raw);
    if (r.problems) {
      const first = r.problems[0];
      // The codes a skipped entry has always carried: its endpoint, a taken id, else
      // invalid_request; every field's own message is in the text.
      const code = first.code === "invalid_endpoint" || first.code === "duplicate_runtime_id"
        ? first.code
        : "invalid_request";
      const id = typeof (raw as { id?: unknown })?.id === "string" && first.code !== "invalid_id"
        ? ` (${(raw as { id: string }).id})`
        : "";
      const why = r.problems.map((p) => p.message.replace(/\.$/, "")).join("; ");
      cfg.diagnostics.push(diagnostic(code, `${where}${id} skipped: ${why}`));
      return;
    }
    if (seen.has(r.entry.id)) {
      cfg.diagnostics.push(
        diagnostic("duplicate_runtime_id", `${where} skipped: id "${r.entry.id}" is already used`),
      );
      return;
    }
    seen.add(r.entry.id);
    cfg.remotes.push(r.entry);
  });
  return cfg;
}

/** Loads the config file; a missing file is an empty config. */
export async function loadBackendConfig(path: string): Promise<BackendConfig> {
  try {
    return parseBackendConfig(await Deno.readTextFile(path), configFileName(path));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return parseBackendConfig("");
    return {
      ...parseBackendConfig(""),
      parsed: false,
      diagnostics: [diagnostic("config_unparsable", "config file could not be read")],
    };
  }
}
