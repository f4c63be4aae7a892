import { z } from 'zod';
import { problemSchema } from './api-schemas.js';
import type { RouteDef } from './route-table.js';

type Json = Record<string, unknown>;

const jsonSchema = (schema: z.ZodType, io: 'input' | 'output'): Json => {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Json;
  return rest;
};

function parameters(schema: z.ZodType | undefined, where: 'query' | 'path'): Json[] {
  if (!schema) return [];
  const js = jsonSchema(schema, 'input') as { properties?: Record<string, Json>; required?: string[] };
  return Object.entries(js.properties ?? {}).map(([name, s]) => {
    const { description, ...rest } = s as Json & { description?: string };
    const repeated = JSON.stringify(rest).includes('"type":"array"');
    return {
      name,
      in: where,
      required: where === 'path' || (js.required ?? []).includes(name),
      ...(description ? { description } : {}),
      schema: rest,
      ...(repeated ? { style: 'form', explode: true } : {}),
    };
  });
}

/** The OpenAPI 3.1 document of the routes, generated from their zod schemas. */
export function openApiDocument(routes: readonly RouteDef[], version: string): Json {
  const paths: Record<string, Json> = {};
  const problem = { description: 'RFC 9457 problem details', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } };
  for (const r of routes) {
    const path = r.url.replace(/:([A-Za-z_]+)/g, '{$1}');
    const content: Record<string, Json> = {};
    for (const [type, schema] of Object.entries(r.response.content)) content[type] = schema ? { schema: jsonSchema(schema, 'output') } : { schema: { type: 'string' } };
    const responses: Json = { '200': { description: r.response.description, content } };
    if (r.query || r.params) responses['400'] = problem;
    if (!r.public) responses['401'] = problem;
    if (r.params) responses['404'] = problem;
    if (r.expensive) responses['429'] = { ...problem, headers: { 'Retry-After': { schema: { type: 'integer' }, description: 'seconds until the window resets' } } };
    if (!r.public) responses['503'] = problem;
    paths[path] = {
      ...(paths[path] ?? {}),
      [r.method.toLowerCase()]: {
        operationId: r.operationId,
        summary: r.summary,
        parameters: [...parameters(r.params, 'path'), ...parameters(r.query, 'query')],
        responses,
        ...(r.public ? { security: [] } : {}),
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Killtrace API', version, description: 'Read-only search over restart records, postmortem timelines and workload recommendations.' },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'a token from api.tokens or api.tokensFile' } },
      schemas: { Problem: jsonSchema(problemSchema, 'output') },
    },
  };
}
