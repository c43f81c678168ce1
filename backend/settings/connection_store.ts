/**
 * The ConnectionStore: runtime connections persisted in
 * `.yoi/workspace-backend.local.toml` (DESIGN §7). Every mutation is a
 * read-modify-write under an in-process mutex and a cross-process file lock,
 * checked by re-parsing, and written atomically (temp file, fsync, rename).
 * @module
 */
import { isDeepStrictEqual } from "node:util";
import { basename, dirname } from "node:path";
import { parse } from "smol-toml";
import {
  ApiError,
  type Diagnostic,
  diagnostic,
  DISPLAY_NAME_MAX,
  EMBEDDED_RUNTIME_ID,
  isName,
} from "../../shared/mod.ts";
import {
  configFileName,
  describeTomlError,
  endpointProblem,
  parseBackendConfig,
  type RemoteConfig,
} from "./config.ts";
import { appendRemote, editRemote, removeRemote } from "./toml_edit.ts";
import { isTokenRef, type TokenRefPolicy, tokenRefProblem } from "./token_ref.ts";

/** Request fields that would carry a secret value; refused, never stored. */
const RAW_TOKEN_FIELDS = ["token", "bearer_token", "access_token", "api_key", "password", "secret"];
// deno-lint-ignore no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;
const BIDI_CONTROLS = /[\u202a-\u202e\u2066-\u2069]/;
/** An unpaired UTF-16 surrogate: it cannot be written as UTF-8 into the config file. */
const LONE_SURROGATE = /\p{Cs}/u;

type Fields = "id" | "endpoint" | "display_name" | "token_ref";

/**
 * Checks the fields of an add, edit or candidate body. Every problem becomes a diagnostic
 * with a code that names its field; the first one is the error. `required` fields must be
 * present; fields outside `allowed` are refused (`id` in an edit: the id never changes).
 */
function checkFields(
  raw: unknown,
  allowed: readonly Fields[],
  required: readonly Fields[],
  policy: TokenRefPolicy,
): Partial<Record<Fields, string>> {
  const problems: Diagnostic[] = [];
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new ApiError("invalid_request", "Request body must be a JSON object.");
  }
  const body = raw as Record<string, unknown>;
  const rawToken = Object.keys(body).find((k) => RAW_TOKEN_FIELDS.includes(k.toLowerCase()));
  if (rawToken) {
    throw new ApiError(
      "raw_token_rejected",
      `Tokens are never sent or stored here; set token_ref = "env:NAME" and put the token in the Backend's environment.`,
    );
  }
  if ("id" in body && !allowed.includes("id")) {
    throw new ApiError("invalid_request", "The id of a connection never changes; omit it.");
  }
  const extra = Object.keys(body).filter((k) => !(allowed as readonly string[]).includes(k));
  if (extra.length) {
    problems.push(diagnostic("invalid_request", `Unknown field(s): ${extra.join(", ")}.`));
  }
  const { id, endpoint, display_name, token_ref } = body;
  if (allowed.includes("id")) {
    if (!isName(id)) {
      problems.push(diagnostic(
        "invalid_id",
        "Id must be 1–63 characters of a–z, 0–9, _ or -, starting with a letter or digit.",
      ));
    } else if (id === EMBEDDED_RUNTIME_ID) {
      problems.push(
        diagnostic("duplicate_runtime_id", `"${id}" is the built-in embedded runtime.`),
      );
    }
  }
  if (endpoint !== undefined || required.includes("endpoint")) {
    if (typeof endpoint !== "string") {
      problems.push(diagnostic("invalid_endpoint", "Endpoint is required."));
    } else if (LONE_SURROGATE.test(endpoint)) {
      problems.push(
        diagnostic("invalid_endpoint", "Endpoint must not contain unpaired surrogates."),
      );
    } else {
      const p = endpointProblem(endpoint);
      if (p) problems.push(diagnostic("invalid_endpoint", `${p[0].toUpperCase()}${p.slice(1)}.`));
    }
  }
  if (display_name !== undefined) {
    if (typeof display_name !== "string") {
      problems.push(diagnostic("invalid_display_name", "Display name must be text."));
    } else if ([...display_name].length > DISPLAY_NAME_MAX) {
      problems.push(
        diagnostic(
          "invalid_display_name",
          `Display name must be at most ${DISPLAY_NAME_MAX} characters.`,
        ),
      );
    } else if (CONTROL_CHARS.test(display_name) || BIDI_CONTROLS.test(display_name)) {
      problems.push(
        diagnostic(
          "invalid_display_name",
          "Display name must not contain control or bidi control characters.",
        ),
      );
    } else if (LONE_SURROGATE.test(display_name)) {
      problems.push(
        diagnostic("invalid_display_name", "Display name must not contain unpaired surrogates."),
      );
    }
  }
  if (token_ref !== undefined && token_ref !== "") {
    if (!isTokenRef(token_ref)) {
      problems.push(diagnostic(
        "invalid_token_ref",
        'token_ref must look like "env:NAME" or "file:NAME" (a reference, not a token).',
      ));
    } else {
      const p = tokenRefProblem(token_ref, policy);
      if (p) problems.push(diagnostic("token_ref_not_allowed", p));
    }
  }
  if (problems.length) throw new ApiError(problems[0].code, problems[0].message, problems);
  const out: Partial<Record<Fields, string>> = {};
  if (typeof id === "string") out.id = id;
  if (typeof endpoint === "string") out.endpoint = endpoint.trim();
  if (typeof display_name === "string") out.display_name = display_name.trim();
  if (typeof token_ref === "string") out.token_ref = token_ref;
  return out;
}

/** Drops empty optional values: "" means "none". */
function toConfig(f: Partial<Record<Fields, string>>): RemoteConfig {
  const entry: RemoteConfig = { id: f.id!, endpoint: f.endpoint! };
  if (f.display_name) entry.display_name = f.display_name;
  if (f.token_ref) entry.token_ref = f.token_ref;
  return entry;
}

/**
 * Validates an add request `{id, endpoint, display_name?, token_ref?}`; a token_ref the
 * `policy` refuses is 400 `token_ref_not_allowed` (DESIGN §8).
 */
export function validateNewConnection(raw: unknown, policy: TokenRefPolicy = {}): RemoteConfig {
  const f = checkFields(
    raw,
    ["id", "endpoint", "display_name", "token_ref"],
    ["id", "endpoint"],
    policy,
  );
  return toConfig(f);
}

/** Validates an unsaved candidate for the probe (`{id, endpoint, token_ref?}`). */
export function validateCandidate(raw: unknown, policy: TokenRefPolicy = {}): RemoteConfig {
  const f = checkFields(raw, ["id", "endpoint", "token_ref"], ["id", "endpoint"], policy);
  return toConfig(f);
}

/**
 * Validates an edit `{endpoint?, display_name?, token_ref?}` of `current` and returns the
 * entry as it will be saved; an empty display name or token_ref removes it.
 */
export function validateConnectionEdit(
  raw: unknown,
  current: RemoteConfig,
  policy: TokenRefPolicy = {},
): RemoteConfig {
  const f = checkFields(raw, ["endpoint", "display_name", "token_ref"], [], policy);
  return toConfig({
    id: current.id,
    endpoint: f.endpoint ?? current.endpoint,
    display_name: f.display_name ?? current.display_name,
    token_ref: f.token_ref ?? current.token_ref,
  });
}

const LAYOUT_MESSAGE = "The config file's layout could not be edited safely (for example an " +
  "inline runtimes.remote array); nothing was written. Edit it by hand.";

/** What the file holds now, or why it cannot be used. */
export type ConfigSnapshot =
  | { ok: true; exists: boolean; remotes: RemoteConfig[]; diagnostics: Diagnostic[] }
  | { ok: false; exists: true; remotes: []; diagnostics: Diagnostic[] };

export class ConnectionStore {
  readonly #path: string;
  #chain: Promise<unknown> = Promise.resolve();

  constructor(path: string) {
    this.#path = path;
  }

  /** Reads the current file (no lock: a rename-based writer never exposes a partial file). */
  async snapshot(): Promise<ConfigSnapshot> {
    const text = await this.#readText();
    if (text === null) return { ok: true, exists: false, remotes: [], diagnostics: [] };
    const cfg = parseBackendConfig(text, configFileName(this.#path));
    if (!cfg.parsed) return { ok: false, exists: true, remotes: [], diagnostics: cfg.diagnostics };
    return { ok: true, exists: true, remotes: cfg.remotes, diagnostics: cfg.diagnostics };
  }

  /** Adds an entry; `duplicate_runtime_id` when the id is taken. */
  add(entry: RemoteConfig): Promise<void> {
    return this.#mutate((text, doc) => {
      if (
        doc.runtimes !== undefined &&
        (typeof doc.runtimes !== "object" || doc.runtimes === null || Array.isArray(doc.runtimes))
      ) {
        throw new ApiError("config_unparsable", "runtimes in the config file is not a table.");
      }
      const remotes = remotesOf(doc);
      if (remotes.some((r) => r.id === entry.id)) {
        throw new ApiError(
          "duplicate_runtime_id",
          `A runtime connection "${entry.id}" already exists.`,
        );
      }
      const intended = structuredClone(doc);
      const rt = (intended.runtimes ??= {}) as Record<string, unknown>;
      const list = (rt.remote ??= []) as unknown[];
      list.push(Object.fromEntries(Object.entries(entry).filter(([, v]) => v !== undefined)));
      return { text: appendRemote(text, entry), intended };
    });
  }

  /**
   * Replaces the entry with `entry.id` (only its edited key lines change);
   * `runtime_not_found` when there is none.
   */
  edit(entry: RemoteConfig): Promise<void> {
    return this.#mutate((text, doc) => {
      const list = remotesOf(doc);
      const at = list.findIndex((r) => r.id === entry.id);
      if (at === -1) {
        throw new ApiError(
          "runtime_not_found",
          `No runtime connection "${entry.id}" in the config file.`,
        );
      }
      const next = editRemote(text, entry);
      if (next === null) throw new ApiError("config_unparsable", LAYOUT_MESSAGE);
      const intended = structuredClone(doc);
      const remotes = (intended.runtimes as Record<string, unknown>).remote as Record<
        string,
        unknown
      >[];
      const updated = { ...remotes[at] };
      for (const k of ["endpoint", "display_name", "token_ref"] as const) {
        if (entry[k] === undefined) delete updated[k];
        else updated[k] = entry[k];
      }
      remotes[at] = updated;
      return { text: next, intended };
    });
  }

  /** Removes an entry; `runtime_not_found` when there is none. */
  remove(id: string): Promise<void> {
    return this.#mutate((text, doc) => {
      const next = removeRemote(text, id);
      if (next === null && remotesOf(doc).some((r) => r.id === id)) {
        // Present, but not as a [[runtimes.remote]] block (e.g. an inline array).
        throw new ApiError("config_unparsable", LAYOUT_MESSAGE);
      }
      if (next === null) {
        throw new ApiError(
          "runtime_not_found",
          `No runtime connection "${id}" in the config file.`,
        );
      }
      const intended = structuredClone(doc);
      const rt = intended.runtimes as Record<string, unknown>;
      rt.remote = (rt.remote as { id?: unknown }[]).filter((r) => r.id !== id);
      if ((rt.remote as unknown[]).length === 0) delete rt.remote;
      if (Object.keys(rt).length === 0 && !/^\s*\[runtimes\]/m.test(next)) delete intended.runtimes;
      return { text: next, intended };
    });
  }

  /** Serialises mutations in this process, then across processes with an exclusive flock. */
  #mutate(
    edit: (text: string, doc: Record<string, unknown>) => {
      text: string;
      intended: Record<string, unknown>;
    },
  ): Promise<void> {
    const run = this.#chain.then(() => this.#locked(edit));
    this.#chain = run.catch(() => {});
    return run;
  }

  async #locked(
    edit: (text: string, doc: Record<string, unknown>) => {
      text: string;
      intended: Record<string, unknown>;
    },
  ): Promise<void> {
    await Deno.mkdir(dirname(this.#path), { recursive: true });
    const lock = await Deno.open(`${this.#path}.lock`, { create: true, write: true, mode: 0o600 });
    try {
      await lock.lock(true);
      const text = (await this.#readText()) ?? "";
      let doc: Record<string, unknown>;
      try {
        doc = parse(text) as Record<string, unknown>;
      } catch (e) {
        throw new ApiError(
          "config_unparsable",
          `The config file must be fixed by hand first: ${describeTomlError(e)}.`,
        );
      }
      const { text: next, intended } = edit(text, doc);
      let got: unknown;
      try {
        got = parse(next);
      } catch {
        got = null; // never equal to the intended document (a table)
      }
      if (!isDeepStrictEqual(plain(got), plain(intended))) {
        throw new ApiError("config_unparsable", LAYOUT_MESSAGE);
      }
      await this.#removeStaleTemps();
      await this.#writeAtomically(next);
    } finally {
      await lock.unlock().catch(() => {});
      lock.close();
    }
  }

  /** Temp files a crashed writer left behind; safe to remove while holding the lock. */
  async #removeStaleTemps(): Promise<void> {
    const dir = dirname(this.#path);
    const prefix = `${basename(this.#path)}.tmp-`;
    try {
      for await (const e of Deno.readDir(dir)) {
        if (e.isFile && e.name.startsWith(prefix)) {
          await Deno.remove(`${dir}/${e.name}`).catch(() => {});
        }
      }
    } catch { /* best effort */ }
  }

  async #readText(): Promise<string | null> {
    try {
      return await Deno.readTextFile(this.#path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return null;
      throw new ApiError("internal_error", "The config file could not be read.");
    }
  }

  async #writeAtomically(text: string): Promise<void> {
    const tmp = `${this.#path}.tmp-${crypto.randomUUID()}`;
    try {
      let mode = 0o600;
      try {
        mode = (await Deno.stat(this.#path)).mode ?? mode;
      } catch { /* new file */ }
      const f = await Deno.open(tmp, { createNew: true, write: true, mode: mode & 0o777 });
      try {
        const bytes = new TextEncoder().encode(text);
        for (let off = 0; off < bytes.length;) off += await f.write(bytes.subarray(off));
        await f.sync();
      } finally {
        f.close();
      }
      await Deno.rename(tmp, this.#path);
      const dir = await Deno.open(dirname(this.#path), { read: true });
      try {
        await dir.sync();
      } catch {
        /* some filesystems cannot sync directories */
      } finally {
        dir.close();
      }
    } catch (e) {
      await Deno.remove(tmp).catch(() => {});
      if (e instanceof ApiError) throw e;
      throw new ApiError(
        "internal_error",
        "The config file could not be written; it is unchanged.",
      );
    }
  }
}

function remotesOf(doc: Record<string, unknown>): { id?: unknown }[] {
  const rt = doc.runtimes as Record<string, unknown> | undefined;
  return Array.isArray(rt?.remote) ? rt.remote as { id?: unknown }[] : [];
}

/** Normalises parsed TOML (dates, null prototypes) for a structural comparison. */
function plain(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v ?? null));
}
