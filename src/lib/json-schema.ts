// Checking a value against one of seamark's JSON schemas outside a route (the
// configuration, a stored record, a cluster value), and the one way a schema
// problem is put in words. It uses ajv, the validator fastify already loads
// for the routes, so no second schema library is loaded.
import type { ErrorObject, Options, ValidateFunction } from 'ajv';
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';
import { requireCommonJs } from './commonjs.js';

export type SchemaIssue = ErrorObject;

/**
 * The TypeScript type of the values a schema (written `as const`) describes, worked out at compile time. A
 * property with a default counts as present. Objects are closed to the properties they name: FromSchema gives an
 * object that does not forbid other properties an `[x: string]: unknown` index, which would make every
 * property of an `Omit<>` unknown and refuse interfaces where the routes return them.
 */
export type SchemaType<S extends JSONSchema> = Closed<FromSchema<S>>;

type Closed<T> = T extends readonly (infer Item)[]
  ? Closed<Item>[]
  : T extends object
    ? { [K in keyof T as string extends K ? never : K]: Closed<T[K]> }
    : T;

/**
 * The check of `schema`, compiled when first asked for (start-up pays only for the schemas it uses) and kept.
 * The check tells whether a value matches and, when it does not, sets its `errors`.
 */
export function validatorOf<T>(schema: object, options: Options = {}): () => ValidateFunction<T> {
  let validate: ValidateFunction<T> | undefined;
  return () => {
    if (validate === undefined) validate = ajvWith(options).compile<T>(schema);
    return validate;
  };
}

type Ajv = InstanceType<(typeof import('ajv'))['default']>;

/** One ajv per set of options, shared by the schemas compiled with them. */
const ajvByOptions = new Map<string, Ajv>();

function ajvWith(options: Options): Ajv {
  const key = JSON.stringify(options);
  let ajv = ajvByOptions.get(key);
  if (ajv === undefined) {
    const { default: AjvClass } = requireCommonJs('ajv') as typeof import('ajv');
    // Unknown fields are an error and "30" is not the number 30, as in the routes.
    ajv = new AjvClass({ strict: true, coerceTypes: false, removeAdditional: false, ...options });
    ajvByOptions.set(key, ajv);
  }
  return ajv;
}

/** Unknown fields first (the commonest mistake), else the first issue that is not an anyOf summary. */
export function pickIssue(issues: readonly SchemaIssue[] | null | undefined): SchemaIssue | undefined {
  if (issues === null || issues === undefined) return undefined;
  return issues.find((i) => i.keyword === 'additionalProperties') ?? issues.find((i) => i.keyword !== 'anyOf') ?? issues[0];
}

/** The field an issue is about (`hosts[0].names`; empty for the whole value) and what is wrong with it. */
export function describeIssue(issue: SchemaIssue | undefined): { field: string; reason: string } {
  if (issue === undefined) return { field: '', reason: 'is invalid' };
  const base = pathToKey(issue.instancePath);
  const join = (child: string) => (base === '' ? child : `${base}.${child}`);
  if (issue.keyword === 'additionalProperties') return { field: join(String(issue.params.additionalProperty)), reason: 'is not a known field' };
  if (issue.keyword === 'required') return { field: join(String(issue.params.missingProperty)), reason: 'is required' };
  if (issue.keyword === 'type' && Array.isArray(issue.params.type)) return { field: base, reason: `must be ${(issue.params.type as string[]).join(' or ')}` };
  return { field: base, reason: issue.message ?? 'is invalid' };
}

/** A JSON pointer as a field name people read: `/hosts/0/names` → `hosts[0].names`. */
function pathToKey(path: string): string {
  return path
    .split('/')
    .filter(Boolean)
    .map((part, i) => (/^\d+$/.test(part) ? `[${part}]` : i === 0 ? part : `.${part}`))
    .join('');
}
