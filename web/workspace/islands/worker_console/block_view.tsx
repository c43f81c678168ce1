/**
 * One block of the transcript: an input line, output (a model's answer as Markdown, command
 * output verbatim with its ANSI colours), a tool call with its result, or a note.
 * @module
 */
import { LazyMarkdown } from "./lazy_markdown.tsx";
import { AnsiText, hasAnsi } from "../../components/ansi_text.tsx";
import type { Block } from "../../components/console_view.ts";

/** Renders one transcript block. */
export function BlockView(props: { block: Block }) {
  const b = props.block;
  if (b.kind === "input") {
    return (
      <div class="console-block input">
        <span class="console-prompt" aria-hidden="true">›</span>
        <span class="visually-hidden">{`Input: `}</span>
        {b.text}
      </div>
    );
  }
  if (b.kind === "output") {
    return (
      <div class="console-block output">
        {b.parts.map((p, i) =>
          // Text without a stream is a model's answer (Markdown); stdout/stderr stay verbatim.
          p.stream === undefined
            ? <LazyMarkdown key={i} source={p.text} />
            : hasAnsi(p.text)
            ? (
              <AnsiText
                key={i}
                text={p.text}
                class={p.stream === "stderr" ? "stderr" : undefined}
              />
            )
            : <span key={i} class={p.stream === "stderr" ? "stderr" : undefined}>{p.text}</span>
        )}
      </div>
    );
  }
  if (b.kind === "tool") {
    const state = b.result === undefined ? "running" : b.result.ok ? "ok" : "failed";
    return (
      <details class={`console-block tool ${state}`} data-call-id={b.call_id}>
        <summary>
          <span class="tool-name">{b.name}</span> <span class={`tool-state ${state}`}>{state}</span>
        </summary>
        <div class="tool-part">
          <span class="tool-label">Arguments</span>
          <pre>{b.arguments}</pre>
        </div>
        {b.result && (
          <div class="tool-part">
            <span class="tool-label">Result</span>
            <pre>{b.result.output}</pre>
          </div>
        )}
      </details>
    );
  }
  return <div class={`console-block note ${b.tone}`}>{b.text}</div>;
}
