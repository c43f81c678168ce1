/**
 * What a page route is: an async function from the request context to a
 * title and a server-rendered body. Data comes only through the typed client.
 * @module
 */
import type { VNode } from "preact";
import type { ApiError } from "../../shared/error_codes.ts";
import type { WorkspaceClient } from "../../shared/client.ts";

export interface RouteContext {
  client: WorkspaceClient;
  params: Record<string, string>;
  url: URL;
}

export interface PageResult {
  title: string;
  body: VNode;
  status?: number;
  /** On an error page: the error, so a client asking for JSON gets the §5 body instead. */
  error?: ApiError;
}

export type Route = (ctx: RouteContext) => Promise<PageResult>;
