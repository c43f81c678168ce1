/**
 * Command output with ANSI colours (SGR). The maintained parser `anser` turns the text into
 * segments; each becomes a Preact text node inside a span with a class, so the output stays
 * escaped (never HTML) and colours follow the theme. The parser is loaded on first use (a
 * separate chunk), so consoles without ANSI output pay nothing for it.
 * @module
 */
import { useEffect, useState } from "preact/hooks";

/** One coloured run of text. */
export interface AnsiSegment {
  text: string;
  /** CSS classes: `ansi-red`, `ansi-bright-green`, `ansi-bold`, … (backgrounds are not shown). */
  classes: string;
}

// deno-lint-ignore no-control-regex
const SEQUENCE = /\u001b\[[0-9;?]*[ -/]*[@-~]/g;
/** The 16 colours that get classes (palette and true colours are shown uncoloured). */
const NAMED = /^ansi-(bright-)?(black|red|green|yellow|blue|magenta|cyan|white)$/;
const DECORATIONS = new Set(["bold", "dim", "italic", "underline", "strikethrough"]);

/** Whether `text` holds an ANSI escape sequence. */
export function hasAnsi(text: string): boolean {
  return text.includes("\u001b[");
}

/** `text` without its ANSI sequences (what the server renders before the parser loads). */
export function stripAnsi(text: string): string {
  return text.replace(SEQUENCE, "");
}

type Parse = (text: string) => AnsiSegment[];
let parser: Promise<Parse> | null = null;

/** Loads `anser` once; later calls share the same promise. */
export function loadAnsiParser(): Promise<Parse> {
  parser ??= import("anser").then((m) => {
    const Anser = m.default;
    return (text: string) =>
      Anser.ansiToJson(text, { use_classes: true, remove_empty: true }).map((s) => {
        const cls: string[] = [];
        if (s.fg && NAMED.test(s.fg)) cls.push(s.fg);
        for (const d of s.decorations ?? []) if (DECORATIONS.has(d)) cls.push(`ansi-${d}`);
        return { text: s.content, classes: cls.join(" ") };
      });
  });
  return parser;
}

/** Renders `text` with its ANSI colours; plain (sequences stripped) until the parser is in. */
export function AnsiText(props: { text: string; class?: string }) {
  const [segments, setSegments] = useState<AnsiSegment[] | null>(null);
  useEffect(() => {
    let live = true;
    loadAnsiParser().then((parse) => {
      if (live) setSegments(parse(props.text));
    }).catch(() => {/* stays plain */});
    return () => {
      live = false;
    };
  }, [props.text]);
  if (!segments) return <span class={props.class}>{stripAnsi(props.text)}</span>;
  return (
    <span class={props.class}>
      {segments.map((s, i) => s.classes ? <span key={i} class={s.classes}>{s.text}</span> : s.text)}
    </span>
  );
}
