/**
 * Model output as Markdown, safely (see `markdown_view.tsx` for the allow-list): no HTML string
 * is ever produced and nothing is set as innerHTML. Used on the server; the console island
 * renders the same elements with `marked` loaded on first use.
 * @module
 */
import { Lexer } from "marked";
import { renderMarkdown } from "./markdown_view.tsx";

export { safeHref } from "./markdown_view.tsx";

/** Renders `source` as Markdown (GFM) elements; never as HTML. */
export function Markdown(props: { source: string }) {
  return renderMarkdown(props.source, Lexer);
}
