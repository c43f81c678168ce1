/**
 * The worker console island's parts, by concern: the live stream (connection, backoff, resume
 * by seq), the clock, scroll-follow, shortcuts, the lifecycle actions, and the views (head,
 * stream status, transcript block with lazily lexed Markdown, input, toolbar).
 * `../worker_console.tsx` wires them; the console route hands the Markdown lexer over on the
 * server.
 * @module
 */
export { BlockView } from "./block_view.tsx";
export { ConsoleHeader } from "./console_header.tsx";
export { ConsoleInput } from "./console_input.tsx";
export { ConsoleToolbar } from "./console_toolbar.tsx";
export { failureTitle } from "./failure.ts";
export { LazyMarkdown, loadMarkdownLexer, provideMarkdownLexer } from "./lazy_markdown.tsx";
export { useShortcuts } from "./shortcuts.ts";
export { ConnLine, DownBanner } from "./stream_status.tsx";
export { useClock } from "./use_clock.ts";
export { useConsoleActions } from "./use_console_actions.ts";
export { useScrollFollow } from "./use_scroll_follow.ts";
export { useWorkerStream } from "./use_worker_stream.ts";
