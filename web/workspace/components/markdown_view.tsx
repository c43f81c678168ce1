/**
 * Model output as Markdown elements, safely: the tokens of `marked` (maintained, GFM; it only
 * lexes) become Preact elements from a fixed allow-list here, so no HTML string is ever produced
 * and nothing is set as innerHTML: raw HTML in the model's text shows as text, links keep only
 * http(s)/mailto/relative targets, and images are shown as links (no request leaves on render).
 * The lexer is a parameter, so the console island can load `marked` lazily; `markdown.tsx` is
 * the same with the lexer imported.
 * @module
 */
import type { ComponentChildren, JSX } from "preact";
import type { Lexer, Token, Tokens } from "marked";

/** Link targets that may be followed; anything else (javascript:, data:, …) renders as text. */
export function safeHref(href: string): string | null {
  const h = href.trim();
  if (/^(https?:|mailto:)/i.test(h)) return h;
  if (/^[#/?]/.test(h) && !h.startsWith("//")) return h;
  return null;
}

function inline(tokens: Token[] | undefined): ComponentChildren {
  return (tokens ?? []).map((t, i) => <Inline key={i} t={t} />);
}

function Inline(props: { t: Token }): JSX.Element {
  const t = props.t;
  switch (t.type) {
    case "strong":
      return <strong>{inline((t as Tokens.Strong).tokens)}</strong>;
    case "em":
      return <em>{inline((t as Tokens.Em).tokens)}</em>;
    case "del":
      return <del>{inline((t as Tokens.Del).tokens)}</del>;
    case "codespan":
      return <code>{(t as Tokens.Codespan).text}</code>;
    case "br":
      return <br />;
    case "link": {
      const l = t as Tokens.Link;
      const href = safeHref(l.href);
      return href
        ? <a href={href} rel="noopener noreferrer nofollow">{inline(l.tokens)}</a>
        : <span>{inline(l.tokens)}</span>;
    }
    case "image": {
      const im = t as Tokens.Image;
      const href = safeHref(im.href);
      const label = `image: ${im.text || im.href}`;
      return href ? <a href={href} rel="noopener noreferrer nofollow">{label}</a> : <>{label}</>;
    }
    case "text": {
      const tx = t as Tokens.Text;
      return tx.tokens ? <>{inline(tx.tokens)}</> : <>{tx.text}</>;
    }
    default:
      // escape, html (shown as text, never parsed) and anything unknown: its raw text.
      return <>{"text" in t && typeof t.text === "string" ? t.text : t.raw}</>;
  }
}

function blocks(tokens: Token[]): ComponentChildren {
  return tokens.map((t, i) => <Block key={i} t={t} />);
}

function Block(props: { t: Token }): JSX.Element | null {
  const t = props.t;
  switch (t.type) {
    case "space":
    case "def":
      return null;
    case "paragraph":
      return <p>{inline((t as Tokens.Paragraph).tokens)}</p>;
    case "heading": {
      const h = t as Tokens.Heading;
      // Inside the console, headings are styled text: the page keeps its own outline.
      return <p class={`md-h md-h${h.depth}`}>{inline(h.tokens)}</p>;
    }
    case "code": {
      const c = t as Tokens.Code;
      return <pre class="md-code" data-lang={c.lang || undefined}><code>{c.text}</code></pre>;
    }
    case "blockquote":
      return <blockquote>{blocks((t as Tokens.Blockquote).tokens)}</blockquote>;
    case "hr":
      return <hr />;
    case "list": {
      const l = t as Tokens.List;
      const items = l.items.map((it, i) => (
        <li key={i}>
          {it.task && <input type="checkbox" checked={!!it.checked} disabled />}
          {it.task && " "}
          {blocks(it.tokens.filter((x) => x.type !== "checkbox"))}
        </li>
      ));
      return l.ordered
        ? (
          <ol start={typeof l.start === "number" && l.start !== 1 ? l.start : undefined}>
            {items}
          </ol>
        )
        : <ul>{items}</ul>;
    }
    case "table": {
      const tb = t as Tokens.Table;
      return (
        <div class="md-table">
          <table>
            <thead>
              <tr>{tb.header.map((c, i) => <th key={i}>{inline(c.tokens)}</th>)}</tr>
            </thead>
            <tbody>
              {tb.rows.map((r, i) => (
                <tr key={i}>{r.map((c, j) => <td key={j}>{inline(c.tokens)}</td>)}</tr>
              ))}
            </tbody>
          </table>
        </div>
      );
    }
    case "text": {
      const tx = t as Tokens.Text;
      return <>{tx.tokens ? inline(tx.tokens) : tx.text}</>;
    }
    default:
      // html blocks and anything unknown: shown as the text it is.
      return <p>{t.raw}</p>;
  }
}

/** Renders `source`, lexed by `lexer` (GFM), as Markdown elements; never as HTML. */
export function renderMarkdown(source: string, lexer: typeof Lexer): JSX.Element {
  let tokens: Token[];
  try {
    tokens = lexer.lex(source, { gfm: true });
  } catch {
    return <p>{source}</p>;
  }
  return <div class="md">{blocks(tokens)}</div>;
}
