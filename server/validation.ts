/**
 * Strict request validation for a route plugin: unknown body fields are an
 * error, not silently dropped (Fastify's default ajv removes them, and a typo
 * such as `regoins` would then create an unscoped manager). Query strings and
 * path parameters are coerced from text, as Fastify's default does. Errors
 * name the field: `body/role: must be one of admin, executive, …`.
 *
 * Call `useStrictValidation(app)` at the top of a plugin; it applies to that
 * plugin's routes only (Fastify encapsulation).
 */
import { Ajv } from 'ajv';
import type { FastifyInstance, FastifySchemaValidationError } from 'fastify';

const bodyAjv = new Ajv({ allErrors: true, strict: false, coerceTypes: false, removeAdditional: false, useDefaults: true });
const textAjv = new Ajv({ allErrors: true, strict: false, coerceTypes: 'array', removeAdditional: false, useDefaults: true });

export function formatValidationErrors(errors: FastifySchemaValidationError[], dataVar: string): Error {
  const seen = new Set<string>();
  const parts: string[] = [];
  for (const error of errors) {
    const field = `${dataVar}${error.instancePath ?? ''}`;
    const params = error.params as Record<string, unknown>;
    let text: string;
    switch (error.keyword) {
      case 'additionalProperties':
        text = `${field}: unknown field "${String(params.additionalProperty)}"`;
        break;
      case 'required':
        text = `${field}/${String(params.missingProperty)}: is required`;
        break;
      case 'enum':
        text = `${field}: must be one of ${(params.allowedValues as unknown[]).join(', ')}`;
        break;
      default:
        text = `${field}: ${error.message ?? 'is not valid'}`;
    }
    if (!seen.has(text)) {
      seen.add(text);
      parts.push(text);
    }
  }
  return new Error(parts.join('; '));
}

export function useStrictValidation(app: FastifyInstance): void {
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? bodyAjv : textAjv).compile(schema as object));
  app.setSchemaErrorFormatter(formatValidationErrors);
}
