/**
 * Where the `[[runtimes.remote]]` entries of a config file sit, as character offsets, read from
 * the concrete syntax tree of `toml-eslint-parser` (a maintained TOML 1.0 parser that keeps the
 * source range of every table, key and value). The editor cuts and splices only at these
 * offsets, so every byte outside an edited entry stays as it was. Shapes it cannot edit safely
 * are named here with their line, never guessed at.
 * @module
 */
import { type AST, parseTOML } from "toml-eslint-parser";

/** A key line of an entry's own table. */
export interface KeySpan {
  /** Start of the line the key is on. */
  start: number;
  /** Just past the line the value ends on (its line break included, when there is one). */
  end: number;
  valueStart: number;
  valueEnd: number;
}

/** One `[[runtimes.remote]]` entry: its header, its keys and any sub-tables right after it. */
export interface RemoteSpan {
  /** Position among the file's entries (= index in the parsed `runtimes.remote` array). */
  index: number;
  /** The entry's `id` when it is a string. */
  id: string | undefined;
  /** 1-based line of the header. */
  line: number;
  /** Start of the header's line. */
  start: number;
  /** Just past the line of the entry's last key or sub-table (comment-only lines after it are not the entry's). */
  end: number;
  /** Just past the line of the last key of the entry's own table (or of its header): where a new key goes. */
  bodyEnd: number;
  /** Keys of the entry's own table written as one plain or quoted key, by name. */
  keys: Map<string, KeySpan>;
}

/** A layout the editor refuses, with the line that makes it so. */
export interface UnsupportedShape {
  line: number;
  column: number;
  message: string;
}

export interface ConfigLayout {
  /** Length of a leading byte order mark (0 or 1); it belongs to no line and is never moved. */
  bom: number;
  entries: RemoteSpan[];
  /** The first shape the editor cannot edit safely, in file order; null when there is none. */
  unsupported: UnsupportedShape | null;
  /** A `[runtimes]` header exists (it keeps `runtimes` a table once the last entry is gone). */
  runtimesHeader: boolean;
}

type Path = (string | number)[];

const keyNames = (key: AST.TOMLKey): string[] =>
  key.keys.map((k) => (k.type === "TOMLBare" ? k.name : k.value));

const isRemote = (p: Path): boolean => p[0] === "runtimes" && p[1] === "remote";

/** Maps `text` (already known to parse as TOML) to entry spans and the first unsupported shape. */
export function findLayout(text: string): ConfigLayout {
  const bom = text.startsWith("\uFEFF") ? 1 : 0;
  const layout: ConfigLayout = { bom, entries: [], unsupported: null, runtimesHeader: false };
  let program: AST.TOMLProgram;
  try {
    // The parser wants the text without its BOM (ESLint strips it before parsing).
    program = parseTOML(text.slice(bom), { tomlVersion: "1.0.0" });
  } catch (e) {
    const err = e as { lineNumber?: number; column?: number };
    layout.unsupported = {
      line: err.lineNumber ?? 1,
      column: (err.column ?? 0) + 1,
      message: "the TOML syntax tree could not be read",
    };
    return layout;
  }
  const lineStart = (at: number) => Math.max(text.lastIndexOf("\n", at - 1) + 1, bom);
  const lineEnd = (at: number) => {
    const nl = text.indexOf("\n", at);
    return nl === -1 ? text.length : nl + 1;
  };
  const refuse = (node: AST.TOMLNode, message: string) => {
    layout.unsupported ??= {
      line: node.loc.start.line,
      column: node.loc.start.column + 1,
      message: `${message} (line ${node.loc.start.line})`,
    };
  };
  /** Key/values whose full path reaches `runtimes` or `runtimes.remote` outside an entry. */
  const checkKey = (table: Path, kv: AST.TOMLKeyValue) => {
    const path = [...table, ...keyNames(kv.key)];
    if (path.length === 1 && path[0] === "runtimes") {
      refuse(kv, "runtimes is written as a value (runtimes = …), so no entry can be edited");
    } else if (isRemote(path) && typeof table[2] !== "number") {
      refuse(
        kv,
        path.length === 2 && kv.value.type === "TOMLArray"
          ? "runtimes.remote is an inline array; only [[runtimes.remote]] entries can be edited"
          : "runtimes.remote is written with dotted keys; only [[runtimes.remote]] entries can be edited",
      );
    }
  };

  const top = program.body[0];
  let open: RemoteSpan | null = null; // the entry whose sub-tables may follow
  for (const node of top.body) {
    if (node.type === "TOMLKeyValue") {
      checkKey([], node);
      continue;
    }
    const path = node.resolvedKey;
    const from = node.range[0] + bom;
    const to = node.range[1] + bom;
    if (path.length === 1 && path[0] === "runtimes" && node.kind === "standard") {
      layout.runtimesHeader = true;
    }
    if (isRemote(path) && path.length === 3 && node.kind === "array") {
      const entry: RemoteSpan = {
        index: path[2] as number,
        id: undefined,
        line: node.loc.start.line,
        start: lineStart(from),
        end: lineEnd(to),
        bodyEnd: lineEnd(to),
        keys: new Map(),
      };
      for (const kv of node.body) {
        const names = keyNames(kv.key);
        if (names.length !== 1) continue;
        entry.keys.set(names[0], {
          start: lineStart(kv.range[0] + bom),
          end: lineEnd(kv.range[1] + bom),
          valueStart: kv.value.range[0] + bom,
          valueEnd: kv.value.range[1] + bom,
        });
        if (names[0] === "id" && kv.value.type === "TOMLValue" && kv.value.kind === "string") {
          entry.id = kv.value.value;
        }
      }
      layout.entries.push(entry);
      open = entry;
    } else if (isRemote(path) && typeof path[2] === "number") {
      if (open && open.index === path[2]) {
        open.end = lineEnd(to); // a sub-table right after its entry travels with it
      } else {
        refuse(
          node,
          "a sub-table of a [[runtimes.remote]] entry is separated from its entry by another table",
        );
      }
    } else {
      open = null;
      if (isRemote(path)) {
        refuse(
          node,
          "runtimes.remote is a single table; only [[runtimes.remote]] entries can be edited",
        );
      } else if (path[0] === "runtimes" && typeof path[1] === "number") {
        refuse(node, "runtimes is an array of tables ([[runtimes]]), so no entry can be edited");
      }
    }
    for (const kv of node.body) checkKey(path, kv);
  }
  return layout;
}
