/**
 * Server-side island markers. An island renders on the server like any
 * component, inside a `<div data-island>` carrying its props as JSON; the
 * island's own bundle hydrates that div in the browser. Only islands ship JS.
 * @module
 */
import type { ComponentType, VNode } from "preact";

/** Islands used by the page being rendered (rendering is synchronous). */
let used: Set<string> | null = null;

/** Collects the island names used while `render` runs. */
export function collectIslands<T>(render: () => T): { result: T; islands: string[] } {
  const prev = used;
  used = new Set();
  try {
    const result = render();
    return { result, islands: [...used] };
  } finally {
    used = prev;
  }
}

/**
 * Wraps an island component for server rendering. `name` is the island's file
 * name in `islands/` without extension; props must be JSON-serialisable.
 */
export function island<P extends Record<string, unknown>>(
  name: string,
  Component: ComponentType<P>,
): (props: P) => VNode {
  return function Island(props: P): VNode {
    used?.add(name);
    return (
      <div data-island={name} data-props={JSON.stringify(props)}>
        <Component {...props} />
      </div>
    );
  };
}
