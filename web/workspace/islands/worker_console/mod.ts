/**
 * The worker console island's parts. `../worker_console.tsx` is the island; the console route
 * hands the Markdown lexer to it on the server.
 * @module
 */
export { LazyMarkdown, loadMarkdownLexer, provideMarkdownLexer } from "./lazy_markdown.tsx";
