/**
 * Scroll-follow for the transcript: the newest output stays in view, but only for a reader who
 * was already at the bottom. A reader who scrolled up since the last automatic scroll stays put,
 * even before the (asynchronous) scroll event has told us so.
 * @module
 */
import type { RefObject } from "preact";
import { useLayoutEffect, useRef } from "preact/hooks";

/** How close to the bottom (px) still counts as "at the bottom". */
const SLACK = 8;

/** Whether a scroll box shows its last line. */
export function isAtBottom(scrollHeight: number, scrollTop: number, clientHeight: number): boolean {
  return scrollHeight - scrollTop - clientHeight < SLACK;
}

/**
 * Whether new content should scroll the box down: the reader was at the bottom and has not
 * scrolled up from where the last automatic scroll (`autoTop`) left it.
 */
export function shouldFollow(atBottom: boolean, scrollTop: number, autoTop: number): boolean {
  return atBottom && scrollTop >= autoTop - SLACK;
}

/** The transcript box's ref and scroll handler; `follow()` makes the next change scroll. */
export function useScrollFollow(content: unknown): {
  logRef: RefObject<HTMLDivElement | null>;
  onScroll: () => void;
  follow: () => void;
} {
  const logRef = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  /** Where the last automatic scroll left the transcript. */
  const autoTop = useRef(0);

  useLayoutEffect(() => {
    const el = logRef.current;
    if (!el || !shouldFollow(atBottom.current, el.scrollTop, autoTop.current)) return;
    el.scrollTop = el.scrollHeight;
    autoTop.current = el.scrollTop;
  }, [content]);

  return {
    logRef,
    onScroll: () => {
      const el = logRef.current;
      if (el) atBottom.current = isAtBottom(el.scrollHeight, el.scrollTop, el.clientHeight);
    },
    follow: () => {
      atBottom.current = true;
      autoTop.current = 0;
    },
  };
}
