/**
 * The one validation of runtime connection input (DESIGN §6, §7, §8): one function per field
 * answers "is this value acceptable?" with a typed diagnostic, and the four callers — add,
 * edit, the candidate test and config load — are thin compositions of them, so a value the
 * settings screen saves is a value the next start reads, and the other way round.
 * @module
 */
import {
  ApiError,
  type Diagnostic,
  diagnostic,
  DISPLAY_NAME_MAX,
  EMBEDDED_RUNTIME_ID,
  isName,
} from "../../shared/mod.ts";
import { tokenRefDiagnostic, type TokenRefPolicy } from "./token_ref.ts";

/** A remote runtime connection as persisted: only these four keys are ever written. */
export interface RemoteConfig {
  id: string;
  endpoint: string;
  display_name?: string;
  token_ref?: string;
}

type Field = keyof RemoteConfig;

/** Request fields that would carry a secret value; refused, never stored. */
const RAW_TOKEN_FIELDS = ["token", "bearer_token", "access_token", "api_key", "password", "secret"];
// deno-lint-ignore no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;
const BIDI_CONTROLS = /[\u202a-\u202e\u2066-\u2069]/;
/** An unpaired UTF-16 surrogate: it cannot be written as UTF-8 into the config file. */
const LONE_SURROGATE = /\p{Cs}/u;

const ID_RULE = "1–63 characters of a–z, 0–9, _ or -, starting with a letter or digit";

/** The id rule (DESIGN §3); the built-in runtime's id is taken. */
export function idDiagnostic(id: unknown): Diagnostic | null {
  if (!isName(id)) return diagnostic("invalid_id", `Id must be ${ID_RULE}.`);
  if (id === EMBEDDED_RUNTIME_ID) {
    return diagnostic("duplicate_runtime_id", `"${id}" is the built-in embedded runtime.`);
  }
  return null;
}

/** A runtime id in a URL path: 400 `invalid_id` unless it follows the id rule. */
export function assertRuntimeIdParam(id: string): void {
  if (!isName(id)) {
    throw new ApiError("invalid_id", "Runtime ids match ^[a-z0-9][a-z0-9_-]{0,62}$.");
  }
}

/** Problems with an endpoint string, or null when it is acceptable (DESIGN §6). */
export function endpointProblem(endpoint: string): string | null {
  let u: URL;
  try {
    u = new URL(endpoint);
  } catch {
    return "endpoint must be an absolute http: or https: URL";
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    return "endpoint scheme must be http or https";
  }
  if (!u.hostname) return "endpoint must name a host";
  if (u.username || u.password) return "endpoint must not contain credentials";
  if (u.search || endpoint.includes("?")) return "endpoint must not contain a query";
  if (u.hash || endpoint.includes("#")) return "endpoint must not contain a fragment";
  return null;
}

/** The endpoint rule as a diagnostic (the message never echoes the value). */
export function endpointDiagnostic(endpoint: unknown): Diagnostic | null {
  if (typeof endpoint !== "string") return diagnostic("invalid_endpoint", "Endpoint is required.");
  if (LONE_SURROGATE.test(endpoint)) {
    return diagnostic("invalid_endpoint", "Endpoint must not contain unpaired surrogates.");
  }
  const p = endpointProblem(endpoint.trim());
  return p ? diagnostic("invalid_endpoint", `${p[0].toUpperCase()}${p.slice(1)}.`) : null;
}

/** Display names: text of at most 80 characters (code points, after trimming), no controls. */
export function displayNameDiagnostic(name: unknown): Diagnostic | null {
  const bad = (m: string) => diagnostic("invalid_display_name", m);
  if (typeof name !== "string") return bad("Display name must be text.");
  if ([...name.trim()].length > DISPLAY_NAME_MAX) {
    return bad(`Display name must be at most ${DISPLAY_NAME_MAX} characters.`);
  }
  if (CONTROL_CHARS.test(name) || BIDI_CONTROLS.test(name)) {
    return bad("Display name must not contain control or bidi control characters.");
  }
  if (LONE_SURROGATE.test(name)) return bad("Display name must not contain unpaired surrogates.");
  return null;
}

/** Checks every field that is present or required; returns the values (trimmed) and problems. */
function checkFields(
  body: Record<string, unknown>,
  required: readonly Field[],
  policy: TokenRefPolicy | null,
): { fields: Partial<RemoteConfig>; problems: Diagnostic[] } {
  const problems: Diagnostic[] = [];
  const fields: Partial<RemoteConfig> = {};
  const { id, endpoint, display_name, token_ref } = body;
  const add = (d: Diagnostic | null) => d && problems.push(d);
  if (id !== undefined || required.includes("id")) add(idDiagnostic(id));
  if (endpoint !== undefined || required.includes("endpoint")) add(endpointDiagnostic(endpoint));
  // "" means "none" for the two optional fields.
  if (display_name !== undefined && display_name !== "") add(displayNameDiagnostic(display_name));
  if (token_ref !== undefined && token_ref !== "") add(tokenRefDiagnostic(token_ref, policy));
  if (typeof id === "string") fields.id = id;
  if (typeof endpoint === "string") fields.endpoint = endpoint.trim();
  if (typeof display_name === "string") fields.display_name = display_name.trim();
  if (typeof token_ref === "string") fields.token_ref = token_ref;
  return { fields, problems };
}

/**
 * A request body: a JSON object, no raw token field (refused before anything else), no field
 * outside `allowed` (`id` in an edit: the id never changes). Every problem becomes a diagnostic;
 * the first one is the error.
 */
function checkRequest(
  raw: unknown,
  allowed: readonly Field[],
  required: readonly Field[],
  policy: TokenRefPolicy,
): Partial<RemoteConfig> {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new ApiError("invalid_request", "Request body must be a JSON object.");
  }
  const body = raw as Record<string, unknown>;
  if (Object.keys(body).some((k) => RAW_TOKEN_FIELDS.includes(k.toLowerCase()))) {
    throw new ApiError(
      "raw_token_rejected",
      `Tokens are never sent or stored here; set token_ref = "env:NAME" and put the token in the Backend's environment.`,
    );
  }
  if ("id" in body && !allowed.includes("id")) {
    throw new ApiError("invalid_request", "The id of a connection never changes; omit it.");
  }
  const extra = Object.keys(body).filter((k) => !(allowed as readonly string[]).includes(k));
  const { fields, problems } = checkFields(body, required, policy);
  if (extra.length) {
    problems.unshift(diagnostic("invalid_request", `Unknown field(s): ${extra.join(", ")}.`));
  }
  if (problems.length) throw new ApiError(problems[0].code, problems[0].message, problems);
  return fields;
}

/** Drops empty optional values: "" means "none". */
function toConfig(f: Partial<RemoteConfig>): RemoteConfig {
  const entry: RemoteConfig = { id: f.id!, endpoint: f.endpoint! };
  if (f.display_name) entry.display_name = f.display_name;
  if (f.token_ref) entry.token_ref = f.token_ref;
  return entry;
}

/**
 * An add request `{id, endpoint, display_name?, token_ref?}`; a token_ref the `policy` refuses
 * is 400 `token_ref_not_allowed` (DESIGN §8).
 */
export function validateNewConnection(raw: unknown, policy: TokenRefPolicy = {}): RemoteConfig {
  const all = ["id", "endpoint", "display_name", "token_ref"] as const;
  return toConfig(checkRequest(raw, all, ["id", "endpoint"], policy));
}

/** An unsaved candidate for the probe (`{id, endpoint, token_ref?}`). */
export function validateCandidate(raw: unknown, policy: TokenRefPolicy = {}): RemoteConfig {
  return toConfig(
    checkRequest(raw, ["id", "endpoint", "token_ref"], ["id", "endpoint"], policy),
  );
}

/**
 * An edit `{endpoint?, display_name?, token_ref?}` of `current`, returned as the entry that will
 * be saved; an empty display name or token_ref removes it.
 */
export function validateConnectionEdit(
  raw: unknown,
  current: RemoteConfig,
  policy: TokenRefPolicy = {},
): RemoteConfig {
  const f = checkRequest(raw, ["endpoint", "display_name", "token_ref"], [], policy);
  return toConfig({
    id: current.id,
    endpoint: f.endpoint ?? current.endpoint,
    display_name: f.display_name ?? current.display_name,
    token_ref: f.token_ref ?? current.token_ref,
  });
}

/**
 * One `[[runtimes.remote]]` entry of the config file: the same field rules as an add, but other
 * keys are allowed (kept for later versions) and a token_ref the policy refuses is kept (it
 * becomes `unconfigured` live, DESIGN §8). Values are returned as written; "" means "none".
 */
export function validateConfigEntry(
  raw: unknown,
): { entry: RemoteConfig; problems?: undefined } | { entry?: undefined; problems: Diagnostic[] } {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return { problems: [diagnostic("invalid_request", "The entry is not a table.")] };
  }
  const body = raw as Record<string, unknown>;
  const { problems } = checkFields(body, ["id", "endpoint"], null);
  if (problems.length) return { problems };
  const entry: RemoteConfig = { id: body.id as string, endpoint: body.endpoint as string };
  if (body.display_name) entry.display_name = body.display_name as string;
  if (body.token_ref) entry.token_ref = body.token_ref as string;
  return { entry };
}
