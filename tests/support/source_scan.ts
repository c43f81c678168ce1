/**
 * Reads TypeScript source as code without its comments: strings, template text, regex
 * literals and JSX text stay, `//` and `/* *\/` comments go. Enough of a lexer to find
 * literals a test forbids (API paths outside the route tables) without flagging JSDoc.
 * @module
 */

const REGEX_AFTER = new Set([..."(,=:[!&|?{};+-*%<>~^"]);
const REGEX_AFTER_WORDS = new Set(["return", "typeof", "case", "in", "of", "void", "yield"]);

/** `source` with comments replaced by spaces (line breaks kept, so line numbers hold). */
export function stripComments(source: string): string {
  let out = "";
  let i = 0;
  /** Brace depth at which each open template's `${` began. */
  const templates: number[] = [];
  let depth = 0;
  let lastSignificant = "";
  let lastWord = "";
  const n = source.length;
  const blank = (s: string) => s.replace(/[^\n]/g, " ");
  while (i < n) {
    const c = source[i];
    const d = source[i + 1];
    if (c === "/" && d === "/") {
      const end = source.indexOf("\n", i);
      const stop = end < 0 ? n : end;
      out += blank(source.slice(i, stop));
      i = stop;
      continue;
    }
    if (c === "/" && d === "*") {
      const end = source.indexOf("*/", i + 2);
      const stop = end < 0 ? n : end + 2;
      out += blank(source.slice(i, stop));
      i = stop;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < n && source[j] !== c && source[j] !== "\n") j += source[j] === "\\" ? 2 : 1;
      out += source.slice(i, j + 1);
      i = j + 1;
      lastSignificant = c;
      lastWord = "";
      continue;
    }
    if (c === "`" || (c === "}" && templates.length && templates.at(-1) === depth)) {
      // Template text up to the closing backtick or the next `${`.
      if (c === "}") templates.pop();
      let j = i + 1;
      while (j < n && source[j] !== "`" && !(source[j] === "$" && source[j + 1] === "{")) {
        j += source[j] === "\\" ? 2 : 1;
      }
      if (source[j] === "$") {
        templates.push(depth);
        out += source.slice(i, j + 2);
        i = j + 2;
      } else {
        out += source.slice(i, j + 1);
        i = j + 1;
      }
      lastSignificant = "`";
      lastWord = "";
      continue;
    }
    if (c === "/" && (REGEX_AFTER.has(lastSignificant) || REGEX_AFTER_WORDS.has(lastWord))) {
      let j = i + 1;
      let inClass = false;
      while (j < n && source[j] !== "\n" && (inClass || source[j] !== "/")) {
        if (source[j] === "\\") j++;
        else if (source[j] === "[") inClass = true;
        else if (source[j] === "]") inClass = false;
        j++;
      }
      out += source.slice(i, j + 1);
      i = j + 1;
      lastSignificant = "/";
      lastWord = "";
      continue;
    }
    if (c === "{") depth++;
    if (c === "}") depth--;
    out += c;
    if (!/\s/.test(c)) {
      const word = /[A-Za-z0-9_$]/;
      lastSignificant = c;
      lastWord = word.test(c) ? (word.test(source[i - 1] ?? "") ? lastWord : "") + c : "";
    }
    i++;
  }
  return out;
}

/** An API path literal: `/api` or `/v1` as a path start, also inside text and regexes. */
export const API_PATH = /(?<![\w.:-])\/(api|v1)(?=[/?#*"'`$]|\s|$)/g;

/** Every API path spelled in `source` (comments excluded): the API and its line. */
export function apiPathsIn(source: string): { api: "api" | "v1"; line: number }[] {
  const code = stripComments(source).replaceAll("\\/", "/");
  const out: { api: "api" | "v1"; line: number }[] = [];
  for (const m of code.matchAll(API_PATH)) {
    const line = code.slice(0, m.index).split("\n").length;
    out.push({ api: m[1] as "api" | "v1", line });
  }
  return out;
}
