/**
 * A model's answer as Markdown, with the lexer (`marked`, most of the console's JavaScript)
 * loaded on first use in the browser: consoles of command workers never show Markdown, so it is
 * a separate chunk, like the ANSI parser. The server is handed the lexer up front
 * (`provideMarkdownLexer`, in the console route) and renders Markdown as always. In the
 * browser, a part rendered on the server keeps the server's markup until the lexer is in
 * (Preact does not apply `dangerouslySetInnerHTML` while hydrating, and the one given here is
 * empty), then renders the same elements itself; a part that arrives live before that shows as
 * plain text for that moment.
 * @module
 */
import type { Lexer } from "marked";
import { useEffect, useState } from "preact/hooks";
import { renderMarkdown } from "../../components/markdown_view.tsx";

let lexer: typeof Lexer | null = null;
let loading: Promise<unknown> | null = null;

/** Hands over the lexer where it is loaded anyway (the server): renders are then direct. */
export function provideMarkdownLexer(l: typeof Lexer): void {
  lexer = l;
}

/** Loads the lexer once; later calls share the same promise. */
export function loadMarkdownLexer(): Promise<unknown> {
  return loading ??= import("marked").then((m) => lexer = m.Lexer);
}

/** True while the page's islands hydrate: `boot` runs in the same task as this module. */
let hydrating = true;
queueMicrotask(() => hydrating = false);

/** Renders `source` as Markdown (GFM) elements, never as HTML; see the module note. */
export function LazyMarkdown(props: { source: string }) {
  const [, setLoaded] = useState(false);
  /** The source this part was hydrated with: its server markup is right while it is unchanged. */
  const [hydrated] = useState(() => hydrating ? props.source : null);
  useEffect(() => {
    if (!lexer) loadMarkdownLexer().then(() => setLoaded(true), () => {});
  }, []);
  if (lexer) return renderMarkdown(props.source, lexer);
  return hydrated === props.source
    ? <div class="md" dangerouslySetInnerHTML={{ __html: "" }} />
    : (
      <div class="md">
        <p>{props.source}</p>
      </div>
    );
}
