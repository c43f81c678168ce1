/**
 * Span edits of `[[runtimes.remote]]` entries in a config file's text, at the offsets
 * {@link findLayout} found. Everything outside the edited entry — comments, blank lines, key
 * order, a BOM, CRLF line breaks, unknown tables and keys — stays byte for byte, and an added
 * entry deleted again leaves the file exactly as it was. Callers re-parse the result and compare
 * it with the intended config before they write it (`config_edit.ts`).
 * @module
 */
import type { ConfigLayout, RemoteSpan } from "./toml_layout.ts";

/** The persisted fields of an entry (DESIGN §7); only these are ever written. */
export interface RemoteFields {
  id: string;
  endpoint: string;
  display_name?: string;
  token_ref?: string;
}

/** The keys an edit may change, in the order new ones are written. */
export const EDITABLE_KEYS = ["endpoint", "display_name", "token_ref"] as const;
export type EditableKey = typeof EDITABLE_KEYS[number];

const ESCAPES: Record<number, string> = {
  0x08: "\\b",
  0x09: "\\t",
  0x0a: "\\n",
  0x0c: "\\f",
  0x0d: "\\r",
  0x22: '\\"',
  0x5c: "\\\\",
};

/** `s` as a TOML basic string: quote, backslash and control characters (DEL too) escaped. */
export function tomlString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ESCAPES[c]) out += ESCAPES[c];
    else if (c < 0x20 || c === 0x7f) out += `\\u${c.toString(16).padStart(4, "0")}`;
    else out += ch;
  }
  return `${out}"`;
}

/** The entry's lines (each ending with `nl`): header, then the persisted keys that are set. */
export function renderRemote(entry: RemoteFields, nl = "\n"): string {
  const lines = ["[[runtimes.remote]]", `id = ${tomlString(entry.id)}`];
  for (const key of EDITABLE_KEYS) {
    const v = entry[key];
    if (v !== undefined) lines.push(`${key} = ${tomlString(v)}`);
  }
  return lines.map((l) => l + nl).join("");
}

const BLANK = /^[ \t]*(\r?\n)?$/;

/** Start of the line holding offset `at` (a BOM is never part of a line). */
function lineStart(text: string, at: number, bom: number): number {
  return Math.max(text.lastIndexOf("\n", at - 1) + 1, bom);
}

/** Just past the line starting at `at` (its line break included, when there is one). */
function lineEnd(text: string, at: number): number {
  const nl = text.indexOf("\n", at);
  return nl === -1 ? text.length : nl + 1;
}

/** The line break to write near `at`: the one ending the line before it, else the file's first. */
function lineBreak(text: string, at: number): string {
  const prev = text.lastIndexOf("\n", at - 1);
  const nl = prev !== -1 ? prev : text.indexOf("\n");
  return nl > 0 && text[nl - 1] === "\r" ? "\r\n" : "\n";
}

/** `text` with the entry added after the last entry (or at the end of the file). */
export function appendRemote(text: string, layout: ConfigLayout, entry: RemoteFields): string {
  const last = layout.entries.at(-1);
  const at = last ? last.end : text.length;
  const nl = lineBreak(text, at);
  const block = renderRemote(entry, nl);
  if (at === text.length && at > layout.bom && !text.endsWith("\n")) {
    // The file ends without a line break: so does it after the new entry (and after its delete).
    return `${text}${nl}${nl}${block.slice(0, -nl.length)}`;
  }
  if (!last) return at === layout.bom ? text + block : `${text}${nl}${block}`;
  // One blank line before the entry, unless the next line is not blank: then none, so that a
  // delete (which takes a blank line only from between blank neighbours) restores the file.
  const next = text.slice(at, lineEnd(text, at));
  const sep = at === text.length || BLANK.test(next) ? nl : "";
  return text.slice(0, at) + sep + block + text.slice(at);
}

/** `text` without the entry (its sub-tables included) and one blank line that separated it. */
export function removeRemote(text: string, layout: ConfigLayout, span: RemoteSpan): string {
  const { bom } = layout;
  let from = span.start;
  let to = span.end;
  const prevStart = from > bom ? lineStart(text, from - 1, bom) : -1;
  const prevBlank = prevStart !== -1 && BLANK.test(text.slice(prevStart, from));
  const atEnd = to >= text.length;
  const nextBlank = !atEnd && BLANK.test(text.slice(to, lineEnd(text, to)));
  if (prevBlank && (nextBlank || atEnd)) from = prevStart;
  else if (from === bom && nextBlank) to = lineEnd(text, to);
  let head = text.slice(0, from);
  if (atEnd && !text.endsWith("\n") && from > bom) {
    // The entry ended the file without a line break: the line now last keeps that style.
    head = head.replace(/\r?\n$/, "");
  }
  return head + text.slice(to);
}

/**
 * `text` with the entry's keys set to `changes` (undefined: the key's line is removed). A key
 * that exists keeps its line, spacing and comment; only its value is replaced. A new key goes
 * after the last key of the entry's own table, before any sub-table.
 */
export function editRemote(
  text: string,
  span: RemoteSpan,
  changes: Partial<Record<EditableKey, string | null>>,
): string {
  const splices: { from: number; to: number; with: string }[] = [];
  const added: string[] = [];
  for (const key of EDITABLE_KEYS) {
    if (!(key in changes)) continue;
    const want = changes[key];
    const at = span.keys.get(key);
    if (at && want == null) splices.push({ from: at.start, to: at.end, with: "" });
    else if (at) splices.push({ from: at.valueStart, to: at.valueEnd, with: tomlString(want!) });
    else if (want != null) added.push(`${key} = ${tomlString(want)}`);
  }
  if (added.length) {
    const at = span.bodyEnd;
    const nl = lineBreak(text, at);
    const tail = at === text.length && !text.endsWith("\n");
    const lines = tail ? nl + added.join(nl) : added.map((l) => l + nl).join("");
    splices.push({ from: at, to: at, with: lines });
  }
  let out = text;
  for (const s of splices.sort((a, b) => b.from - a.from)) {
    out = out.slice(0, s.from) + s.with + out.slice(s.to);
  }
  return out;
}
