/**
 * Schemas, types, error codes and the id rule shared by runtime, backend and web.
 * @module
 */
export * from "./ids.ts";
export * from "./errors.ts";
export * from "./runtime_dto.ts";
export * from "./http.ts";
export * from "./backend_dto.ts";
export * from "./settings_dto.ts";
export * from "./api_request.ts";
