/** The JSON Schemas Gatehouse publishes in `schemas/`, by file name. */
import type { TSchema } from "@sinclair/typebox";
import { ConnectChallengeSchema, ConnectParamsSchema, HelloOkSchema } from "./connect.js";
import {
  CancelFrameSchema,
  ErrorShapeSchema,
  EventFrameSchema,
  GatewayFrameSchema,
  RequestFrameSchema,
  ResponseFrameSchema,
} from "./frames.js";

export const PUBLISHED_SCHEMAS: Readonly<Record<string, TSchema>> = {
  "connect-params.json": ConnectParamsSchema,
  "connect-challenge.json": ConnectChallengeSchema,
  "hello-ok.json": HelloOkSchema,
  "request-frame.json": RequestFrameSchema,
  "response-frame.json": ResponseFrameSchema,
  "event-frame.json": EventFrameSchema,
  "cancel-frame.json": CancelFrameSchema,
  "gateway-frame.json": GatewayFrameSchema,
  "error-shape.json": ErrorShapeSchema,
};

/** The file text for a schema: plain JSON Schema (draft 2020-12 keywords), stable key order. */
export function schemaFileText(schema: TSchema): string {
  return (
    JSON.stringify({ $schema: "https://json-schema.org/draft/2020-12/schema", ...schema }, null, 2) + "\n"
  );
}
