import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';

/** One API route: its schemas (validation and OpenAPI come from them) and its handler. */
export interface RouteDef<Q extends z.ZodType = z.ZodType, P extends z.ZodType = z.ZodType> {
  method: 'GET';
  /** Fastify path syntax (`/api/v1/records/:id`). */
  url: string;
  operationId: string;
  summary: string;
  query?: Q;
  params?: P;
  /** The 200 response: media types and, for JSON, its body schema. */
  response: { description: string; content: Record<string, z.ZodType | null> };
  /** No bearer token needed (the OpenAPI document, health). */
  public?: boolean;
  /** Counted by the rate limiter. */
  expensive?: boolean;
  handler: (input: { query: z.output<Q>; params: z.output<P>; request: FastifyRequest; reply: FastifyReply }) => Promise<unknown>;
}

/** Keeps a route's type parameters while collecting routes of different shapes in one list. */
export function route<Q extends z.ZodType, P extends z.ZodType>(def: RouteDef<Q, P>): RouteDef {
  return def as unknown as RouteDef;
}
