/**
 * Add, edit and delete of a `[[runtimes.remote]]` entry as text in, text out (DESIGN §7): the
 * file is parsed, the entry located by {@link findLayout}, the span edit made, and the result
 * parsed again and compared with the intended config — dates, 64-bit integers, floats and all —
 * before anything is returned. A file that does not parse is `config_unparsable`; a valid file
 * the editor cannot change safely is `config_unsupported_shape` naming the line. The
 * ConnectionStore adds locking and the atomic write around these.
 * @module
 */
import { isDeepStrictEqual } from "node:util";
import { parse, TomlDate } from "smol-toml";
import { ApiError, type Diagnostic } from "../../shared/mod.ts";
import { describeTomlError, tomlErrorDiagnostic } from "./config.ts";
import { type ConfigLayout, findLayout, type UnsupportedShape } from "./toml_layout.ts";
import {
  appendRemote,
  EDITABLE_KEYS,
  type EditableKey,
  editRemote,
  type RemoteFields,
  removeRemote,
} from "./toml_edit.ts";

/** A leaf value in a form that compares by TOML type and text (`1` ≠ `1.0`, NaN = NaN). */
class Scalar {
  constructor(readonly type: string, readonly text: string) {}
}

type Table = Record<string, unknown>;

/**
 * A parsed document in a form `isDeepStrictEqual` compares exactly: integers (parsed as BigInt)
 * and floats apart, every date/time kind by its TOML text, tables without a prototype (so a
 * `__proto__` key is a key).
 */
export function canonicalToml(v: unknown): unknown {
  if (typeof v === "bigint") return new Scalar("integer", v.toString());
  if (typeof v === "number") return new Scalar("float", Object.is(v, -0) ? "-0" : String(v));
  if (v instanceof TomlDate) {
    const type = v.isDate() ? "date" : v.isTime() ? "time" : v.isLocal() ? "local" : "offset";
    return new Scalar(type, v.toISOString());
  }
  if (Array.isArray(v)) return v.map(canonicalToml);
  if (v !== null && typeof v === "object") {
    const out: Table = Object.create(null);
    for (const [k, x] of Object.entries(v)) out[k] = canonicalToml(x);
    return out;
  }
  return v; // string or boolean
}

/** Parses config text exactly (every integer a BigInt), or throws 409 `config_unparsable`. */
function parseExact(text: string, file?: string): Table {
  try {
    return parse(text, { integersAsBigInt: true }) as Table;
  } catch (e) {
    throw new ApiError(
      "config_unparsable",
      `The config file must be fixed by hand first: ${describeTomlError(e)}.`,
      [tomlErrorDiagnostic(e, file)],
    );
  }
}

/** The 409 for a layout the editor refuses; message and diagnostic name the line. */
export function unsupportedShapeError(shape: UnsupportedShape, file?: string): ApiError {
  const d: Diagnostic = {
    code: "config_unsupported_shape",
    severity: "error",
    message: `${shape.message[0].toUpperCase()}${shape.message.slice(1)}.`,
    line: shape.line,
    column: shape.column,
  };
  if (file) d.file = file;
  return new ApiError(
    "config_unsupported_shape",
    `The config file could not be edited safely: ${shape.message}. Nothing was written; ` +
      "edit it by hand.",
    [d],
  );
}

function remoteList(doc: Table): Table[] | undefined {
  const rt = doc.runtimes as Table | undefined;
  return rt && typeof rt === "object" && Array.isArray(rt.remote)
    ? rt.remote as Table[]
    : undefined;
}

/** The edited text, after checking that it parses to exactly `intended`. */
function verified(next: string, intended: unknown, line: number, file?: string): string {
  let got: unknown = null;
  try {
    got = canonicalToml(parse(next, { integersAsBigInt: true }));
  } catch { /* stays null: never equal to a table */ }
  if (!isDeepStrictEqual(got, intended)) {
    throw unsupportedShapeError({
      line,
      column: 1,
      message: `the edit near line ${line} would change more than its entry`,
    }, file);
  }
  return next;
}

function entryTable(fields: RemoteFields): Table {
  const t: Table = Object.create(null);
  t.id = fields.id;
  for (const k of EDITABLE_KEYS) if (fields[k] !== undefined) t[k] = fields[k];
  return t;
}

function layoutOf(text: string, file?: string): ConfigLayout {
  const layout = findLayout(text);
  if (layout.unsupported) throw unsupportedShapeError(layout.unsupported, file);
  return layout;
}

function notFound(id: string): ApiError {
  return new ApiError("runtime_not_found", `No runtime connection "${id}" in the config file.`);
}

/** `text` with `entry` added; 409 `duplicate_runtime_id` when its id is taken. */
export function addConnection(text: string, entry: RemoteFields, file?: string): string {
  const doc = parseExact(text, file);
  if (remoteList(doc)?.some((r) => r.id === entry.id)) {
    throw new ApiError(
      "duplicate_runtime_id",
      `A runtime connection "${entry.id}" already exists.`,
    );
  }
  const layout = layoutOf(text, file);
  const intended = canonicalToml(doc) as Table;
  const rt = (intended.runtimes ??= Object.create(null)) as Table;
  ((rt.remote ??= []) as unknown[]).push(entryTable(entry));
  const line = layout.entries.at(-1)?.line ?? 1;
  return verified(appendRemote(text, layout, entry), intended, line, file);
}

/**
 * `text` with the entry `entry.id` set to `entry`'s endpoint, display name and token_ref (an
 * unset one is removed); only keys whose value changes are touched. 404 when there is none.
 */
export function editConnection(text: string, entry: RemoteFields, file?: string): string {
  const doc = parseExact(text, file);
  const layout = layoutOf(text, file);
  const span = layout.entries.find((e) => e.id === entry.id);
  if (!span) throw notFound(entry.id);
  const intended = canonicalToml(doc) as Table;
  const saved = remoteList(intended)![span.index];
  const changes: Partial<Record<EditableKey, string | null>> = {};
  for (const k of EDITABLE_KEYS) {
    const want = entry[k];
    if (want === saved[k]) continue;
    changes[k] = want ?? null;
    if (want === undefined) delete saved[k];
    else saved[k] = want;
  }
  return verified(editRemote(text, span, changes), intended, span.line, file);
}

/** `text` without the entry `id` (and its sub-tables); 404 when there is none. */
export function removeConnection(text: string, id: string, file?: string): string {
  const doc = parseExact(text, file);
  const layout = layoutOf(text, file);
  const span = layout.entries.find((e) => e.id === id);
  if (!span) throw notFound(id);
  const intended = canonicalToml(doc) as Table;
  const rt = intended.runtimes as Table;
  const list = rt.remote as unknown[];
  list.splice(span.index, 1);
  if (list.length === 0) delete rt.remote;
  if (Object.keys(rt).length === 0 && !layout.runtimesHeader) delete intended.runtimes;
  return verified(removeRemote(text, layout, span), intended, span.line, file);
}
