/**
 * Surgical edits of `[[runtimes.remote]]` entries in a TOML file's text.
 * Everything outside the edited entry — comments, blank lines, key order,
 * unknown tables and keys — stays byte for byte. Callers re-parse the result
 * and compare it with the intended config before they write it.
 * @module
 */
import { parse } from "smol-toml";
import type { RemoteConfig } from "./config.ts";

/** A `[[runtimes.remote]]` entry's place in the text, by line index. */
export interface RemoteBlock {
  /** Line of the `[[runtimes.remote]]` header. */
  start: number;
  /** Last line of the entry that is not blank and not only a comment. */
  contentEnd: number;
  /** Line of the next table header (or the line count). */
  next: number;
  id: string | undefined;
}

/** Splits text into lines, keeping each line's own terminator. */
function splitLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

const HEADER = /^\s*\[\[?[^\[\]=]+\]\]?\s*(#.*)?\r?\n?$/;

/**
 * Finds the line indexes of table headers, skipping lines inside multi-line
 * strings and multi-line arrays or inline tables, where a `[` is a value.
 */
export function tableHeaders(lines: string[]): number[] {
  const headers: number[] = [];
  let multi: '"""' | "'''" | null = null;
  let depth = 0;
  lines.forEach((line, idx) => {
    if (!multi && depth === 0 && HEADER.test(line)) {
      headers.push(idx);
      return;
    }
    for (let i = 0; i < line.length; i++) {
      const ch = line[i];
      if (multi) {
        if (multi === '"""' && ch === "\\") {
          i++;
          continue;
        }
        if (line.startsWith(multi, i)) {
          multi = null;
          i += 2;
        }
        continue;
      }
      if (ch === "#") break;
      if (line.startsWith('"""', i) || line.startsWith("'''", i)) {
        multi = line.slice(i, i + 3) as '"""' | "'''";
        i += 2;
        continue;
      }
      if (ch === '"' || ch === "'") {
        // single-line string: skip to its end
        for (i++; i < line.length && line[i] !== ch; i++) {
          if (ch === '"' && line[i] === "\\") i++;
        }
        continue;
      }
      if (ch === "[" || ch === "{") depth++;
      else if ((ch === "]" || ch === "}") && depth > 0) depth--;
    }
  });
  return headers;
}

function isRemoteHeader(line: string): boolean {
  try {
    const doc = parse(line.replace(/\r?\n$/, "")) as Record<string, unknown>;
    const rt = doc.runtimes as Record<string, unknown> | undefined;
    return Object.keys(doc).length === 1 && !!rt && Object.keys(rt).length === 1 &&
      Array.isArray(rt.remote) && rt.remote.length === 1;
  } catch {
    return false;
  }
}

function isContent(line: string): boolean {
  const t = line.trim();
  return t !== "" && !t.startsWith("#");
}

/** Every `[[runtimes.remote]]` entry in `text`, in file order. */
export function findRemoteBlocks(text: string): RemoteBlock[] {
  const lines = splitLines(text);
  const headers = tableHeaders(lines);
  const blocks: RemoteBlock[] = [];
  headers.forEach((h, k) => {
    if (!isRemoteHeader(lines[h])) return;
    const next = headers[k + 1] ?? lines.length;
    let contentEnd = h;
    for (let i = h + 1; i < next; i++) if (isContent(lines[i])) contentEnd = i;
    let id: string | undefined;
    try {
      const doc = parse(lines.slice(h, contentEnd + 1).join("")) as {
        runtimes?: { remote?: { id?: unknown }[] };
      };
      const v = doc.runtimes?.remote?.[0]?.id;
      if (typeof v === "string") id = v;
    } catch { /* left undefined: such a block is never edited */ }
    blocks.push({ start: h, contentEnd, next, id });
  });
  return blocks;
}

/** The TOML text of one entry; only the four persisted keys are ever written. */
export function renderRemote(entry: RemoteConfig): string {
  // JSON string syntax is valid TOML basic-string syntax for these validated values.
  const out = ["[[runtimes.remote]]\n", `id = ${JSON.stringify(entry.id)}\n`];
  out.push(`endpoint = ${JSON.stringify(entry.endpoint)}\n`);
  if (entry.display_name !== undefined) {
    out.push(`display_name = ${JSON.stringify(entry.display_name)}\n`);
  }
  if (entry.token_ref !== undefined) out.push(`token_ref = ${JSON.stringify(entry.token_ref)}\n`);
  return out.join("");
}

/** Inserts an entry after the last existing one (or at the end of the file). */
export function appendRemote(text: string, entry: RemoteConfig): string {
  const lines = splitLines(text);
  const blocks = findRemoteBlocks(text);
  const block = renderRemote(entry);
  const nl = text.includes("\r\n") ? "\r\n" : "\n";
  const rendered = nl === "\n" ? block : block.replaceAll("\n", nl);
  if (blocks.length === 0) {
    let head = text;
    if (head !== "" && !head.endsWith("\n")) head += nl;
    if (head.trim() !== "") head += nl;
    return head + rendered;
  }
  const at = blocks[blocks.length - 1].contentEnd + 1;
  const before = lines.slice(0, at);
  if (before.length && !before[before.length - 1].endsWith("\n")) {
    before[before.length - 1] += nl;
  }
  return [...before, nl, rendered, ...lines.slice(at)].join("");
}

/** Removes the entry with `id`; returns null when there is none. */
export function removeRemote(text: string, id: string): string | null {
  const lines = splitLines(text);
  const block = findRemoteBlocks(text).find((b) => b.id === id);
  if (!block) return null;
  let from = block.start;
  let to = block.contentEnd + 1;
  // Keep the spacing tidy: drop one blank line that separated this entry from the previous one.
  const blank = (s: string | undefined) => s !== undefined && s.trim() === "";
  if (blank(lines[from - 1]) && (blank(lines[to]) || to >= lines.length)) from--;
  else if (from === 0 && blank(lines[to])) to++;
  return [...lines.slice(0, from), ...lines.slice(to)].join("");
}

const EDITABLE_KEYS = ["endpoint", "display_name", "token_ref"] as const;

/**
 * Rewrites the keys of the entry with `entry.id` to `entry`'s values, touching only the
 * lines of those keys (a missing key is added after the entry's last line, an unset one
 * is removed). Returns null when there is no such block or a value is not written as a
 * one-line string, so the caller refuses instead of guessing.
 */
export function editRemote(text: string, entry: RemoteConfig): string | null {
  const lines = splitLines(text);
  const block = findRemoteBlocks(text).find((b) => b.id === entry.id);
  if (!block) return null;
  const nl = text.includes("\r\n") ? "\r\n" : "\n";
  const drop = new Set<number>();
  const append: string[] = [];
  for (const key of EDITABLE_KEYS) {
    const want = entry[key];
    const keyLine = new RegExp(`^(\\s*${key}\\s*=\\s*)("(?:[^"\\\\\\n]|\\\\.)*"|'[^'\\n]*')(.*)$`);
    const at = lines.findIndex((l, i) =>
      i > block.start && i <= block.contentEnd && new RegExp(`^\\s*${key}\\s*=`).test(l)
    );
    if (at === -1) {
      if (want !== undefined) append.push(`${key} = ${JSON.stringify(want)}${nl}`);
      continue;
    }
    if (want === undefined) {
      drop.add(at);
      continue;
    }
    const eol = lines[at].endsWith("\r\n") ? "\r\n" : lines[at].endsWith("\n") ? "\n" : "";
    const m = keyLine.exec(lines[at].slice(0, lines[at].length - eol.length));
    if (!m) return null;
    lines[at] = `${m[1]}${JSON.stringify(want)}${m[3]}${eol}`;
  }
  if (append.length) {
    const last = block.contentEnd;
    if (!lines[last].endsWith("\n")) lines[last] += nl;
    lines.splice(last + 1, 0, ...append);
  }
  return lines.filter((_, i) => !drop.has(i)).join("");
}
