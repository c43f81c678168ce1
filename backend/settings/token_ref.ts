/**
 * `token_ref` values: references to secrets, never secrets (DESIGN §8). Two forms exist,
 * `env:NAME` and `file:NAME`, and only names the operator allowed resolve: `env:` names that
 * start with `YOI_` or are listed in `[server] token_env_allow`, and `file:` names of a file
 * directly in `<state-dir>/secrets/` that is not group/world-readable. Anything else would let
 * whoever can use the admin screen send any Backend secret (`env:HOME`, a cloud key) to an
 * endpoint they typed.
 * @module
 */
import { ApiError, type Diagnostic, diagnostic } from "../../shared/mod.ts";
import { Secret } from "./secret.ts";

/**
 * The shape of a ref: `env:` and a portable variable name, or `file:` and 1–255 printable
 * characters (whether that name is allowed is {@link tokenRefProblem}'s question).
 */
export const TOKEN_REF_PATTERN =
  // deno-lint-ignore no-control-regex
  /^(env:[A-Za-z_][A-Za-z0-9_]{0,127}|file:[^\u0000-\u001f\u007f]{1,255})$/;

/** Prefix an `env:` name may carry without being listed in `token_env_allow`. */
export const ENV_PREFIX = "YOI_";

/** Which refs may resolve, and where from. */
export interface TokenRefPolicy {
  /** Extra variable names from `[server] token_env_allow`. */
  envAllow?: readonly string[];
  /** The folder `file:` refs name files in (`<state-dir>/secrets`); none: `file:` never resolves. */
  secretsDir?: string;
  /** Environment lookup (default: the process environment). */
  env?: (name: string) => string | undefined;
}

/** Is `s` shaped like a ref (syntax only; see {@link tokenRefProblem} for the policy)? */
export function isTokenRef(s: unknown): s is string {
  return typeof s === "string" && TOKEN_REF_PATTERN.test(s) &&
    !/[\p{Cs}\u202a-\u202e\u2066-\u2069]/u.test(s);
}

/**
 * Why `ref` may not resolve under `policy`, or null when it may. The message names the ref's
 * form and the rule, never a value.
 */
export function tokenRefProblem(ref: string, policy: TokenRefPolicy = {}): string | null {
  if (ref.startsWith("env:")) {
    const name = ref.slice(4);
    if (name.startsWith(ENV_PREFIX) && name.length > ENV_PREFIX.length) return null;
    if (policy.envAllow?.includes(name)) return null;
    return `token_ref env:${name} is not allowed: env: names must start with ${ENV_PREFIX} ` +
      `or be listed in [server] token_env_allow.`;
  }
  if (ref.startsWith("file:")) {
    const name = ref.slice(5);
    if (
      name === "" || name.includes("/") || name.includes("\\") || name === "." ||
      name.includes("..")
    ) {
      return "token_ref file: must name a file directly in .yoi/secrets/ (no /, no ..).";
    }
    return null;
  }
  return 'token_ref must look like "env:NAME" or "file:NAME".';
}

const SHAPE_MESSAGE =
  'token_ref must look like "env:NAME" or "file:NAME" (a reference, not a token).';

/**
 * The token_ref rule as a diagnostic: 400 `invalid_token_ref` for a malformed ref, and, unless
 * `policy` is null (config load keeps such refs; they become `unconfigured` live),
 * `token_ref_not_allowed` for one the policy refuses. Null when the ref is acceptable.
 */
export function tokenRefDiagnostic(
  ref: unknown,
  policy: TokenRefPolicy | null = {},
): Diagnostic | null {
  if (!isTokenRef(ref)) return diagnostic("invalid_token_ref", SHAPE_MESSAGE);
  const p = policy && tokenRefProblem(ref, policy);
  return p ? diagnostic("token_ref_not_allowed", p) : null;
}

/** Throws 400 `token_ref_not_allowed` (or `invalid_token_ref`) unless `ref` may resolve. */
export function assertTokenRefAllowed(ref: string, policy: TokenRefPolicy = {}): void {
  const d = tokenRefDiagnostic(ref, policy);
  if (d) throw new ApiError(d.code, d.message);
}

/**
 * Resolves a ref at connect time. Fails closed: a ref the policy refuses throws
 * `token_ref_not_allowed` (nothing is read); an unset or empty variable, or a missing,
 * unreadable, empty or group/world-readable file throws `token_ref_unresolved`.
 */
export function resolveTokenRef(ref: string, policy: TokenRefPolicy = {}): Secret {
  assertTokenRefAllowed(ref, policy);
  if (ref.startsWith("env:")) {
    const name = ref.slice(4);
    const value = (policy.env ?? ((n) => Deno.env.get(n)))(name);
    if (!value) {
      throw new ApiError(
        "token_ref_unresolved",
        `token_ref ${ref} is not set in the Backend's environment; not connecting without it.`,
      );
    }
    return new Secret(value);
  }
  const name = ref.slice(5);
  const unresolved = (why: string) =>
    new ApiError("token_ref_unresolved", `token_ref ${ref}: ${why}; not connecting without it.`);
  if (!policy.secretsDir) throw unresolved("file: refs are not enabled here");
  const path = `${policy.secretsDir}/${name}`;
  let info: Deno.FileInfo;
  try {
    info = Deno.lstatSync(path);
  } catch {
    throw unresolved("no such file in .yoi/secrets/");
  }
  if (!info.isFile) throw unresolved("not a regular file (symlinks are not followed)");
  if (info.mode !== null && (info.mode & 0o044) !== 0) {
    throw new ApiError(
      "token_ref_not_allowed",
      `token_ref ${ref}: the file is readable by group or others; chmod 600 it.`,
    );
  }
  let value: string;
  try {
    value = Deno.readTextFileSync(path).trim();
  } catch {
    throw unresolved("the file could not be read");
  }
  if (!value) throw unresolved("the file is empty");
  return new Secret(value);
}
