/**
 * Checks a parsed catalog file against catalog/catalog.schema.json (JSON Schema draft 2020-12,
 * with ajv) and turns the first violation into one line that names the row (index and id) and
 * the field: `rows[12] (id "fe-5061-sip"): transport: "tcpp" is not one of "tcp", "udp", "both"`.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { ErrorObject, Options, ValidateFunction } from 'ajv';
import { CatalogError } from './errors.js';
import type { CatalogFile } from './types.js';

export const SCHEMA_URL = new URL('../../catalog/catalog.schema.json', import.meta.url);

/**
 * The validator `npm run build` generates from the schema with ajv's standalone code
 * (scripts/build-catalog-validator.mjs): dist/catalog/schema-validator.cjs, reached by the same
 * relative URL from dist/catalog/schema.js and from the CLI bundle in dist/cli/. Compiling the
 * schema with ajv at run time took about 100 ms of every `analyze` and `catalog` run. Run from
 * src/ (the tests) there is no such file, and ajv compiles the schema as before.
 */
const PREBUILT_URL = new URL('../catalog/schema-validator.cjs', import.meta.url);

/**
 * ajv's settings, shared with the build script. verbose: errors carry the failing data and the
 * schema around it (its description is the hint). strictRequired is off: the if/then names
 * "extends" in `required` only to test for it.
 */
export const AJV_OPTIONS: Options = { allErrors: false, verbose: true, strict: true, strictRequired: false };

let validator: ValidateFunction | undefined;

/** ajv is loaded only when needed (it costs ~50 ms to load), not imported by every command. */
function ajv2020(): typeof import('ajv/dist/2020.js') {
  return createRequire(import.meta.url)('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js');
}

/** The SHA-256 of the schema text, which the generated validator records to show what it was built from. */
export function schemaDigest(schemaText: string): string {
  return createHash('sha256').update(schemaText).digest('hex');
}

/** The generated validator, when there is one and it was built from this very schema text. */
function prebuilt(schemaText: string): ValidateFunction | undefined {
  let mod: { default?: ValidateFunction; schemaSha256?: string };
  try {
    mod = createRequire(import.meta.url)(fileURLToPath(PREBUILT_URL)) as typeof mod;
  } catch {
    return undefined;
  }
  return mod.schemaSha256 === schemaDigest(schemaText) ? mod.default : undefined;
}

function compiled(): ValidateFunction {
  if (validator === undefined) {
    const text = readFileSync(SCHEMA_URL, 'utf8');
    validator = prebuilt(text) ?? new (ajv2020().default)(AJV_OPTIONS).compile(JSON.parse(text) as object);
  }
  return validator;
}

/** Throws a CatalogError (one line, prefixed with `file`) unless `data` is a valid catalog file. */
export function validateCatalogFile(data: unknown, file: string): asserts data is CatalogFile {
  const validate = compiled();
  if (validate(data)) return;
  const errors = validate.errors ?? [];
  // An if/then failure reports the `then` violation first and the `if` after it; the former says what to fix.
  const err = errors.find((e) => e.keyword !== 'if') ?? errors[0];
  throw new CatalogError(
    `${file}: ${err === undefined ? 'does not match the catalog schema' : describe(err, data)}`,
  );
}

/** JSON Pointer segments (RFC 6901 §4: ~1 is "/", ~0 is "~"). */
function pointerSegments(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Where an error is: "rows[3] (id "x")" for a row, then the field path inside it. */
export function rowLabel(index: number, id: unknown): string {
  return `rows[${index}] (${typeof id === 'string' && id !== '' ? `id "${id}"` : 'no id'})`;
}

function locate(segments: string[], data: unknown): { where: string; field: string[] } {
  if (segments[0] === 'rows' && segments.length >= 2 && /^\d+$/.test(segments[1])) {
    const index = Number(segments[1]);
    const rows = (data as { rows?: unknown[] }).rows;
    const row = Array.isArray(rows) ? rows[index] : undefined;
    const id = row !== null && typeof row === 'object' ? (row as { id?: unknown }).id : undefined;
    return { where: rowLabel(index, id), field: segments.slice(2) };
  }
  return { where: '', field: segments };
}

function join(where: string, field: string[], extra?: string): string {
  const path = [...field, ...(extra === undefined ? [] : [extra])].join('.');
  if (where === '') return path === '' ? 'top level' : path;
  return path === '' ? where : `${where}: ${path}`;
}

function hint(err: ErrorObject): string | undefined {
  const parent = err.parentSchema as { description?: unknown } | undefined;
  return typeof parent?.description === 'string' ? parent.description : undefined;
}

function describe(err: ErrorObject, data: unknown): string {
  const { where, field } = locate(pointerSegments(err.instancePath), data);
  const params = err.params as Record<string, unknown>;
  const value = JSON.stringify(err.data);
  if (err.propertyName !== undefined)
    return `${join(where, field)}: bad key "${err.propertyName}": expected ${hint(err) ?? err.message ?? 'another name'}`;
  switch (err.keyword) {
    case 'required': {
      const missing = String(params.missingProperty);
      const why =
        where === '' && field.length === 0 && missing !== 'rows'
          ? ' (a catalog needs product, title and roles unless it "extends" another catalog)'
          : '';
      return `${join(where, field)}: missing required field "${missing}"${why}`;
    }
    case 'additionalProperties':
      return `${join(where, field)}: unknown field "${String(params.additionalProperty)}"`;
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ');
      return `${join(where, field)}: ${value} is not one of ${allowed}`;
    }
    case 'type':
      return `${join(where, field)}: must be ${String(params.type)}, not ${value}`;
    case 'pattern':
      return `${join(where, field)}: ${value} is not valid: expected ${hint(err) ?? `to match ${String(params.pattern)}`}`;
    case 'uniqueItems':
      return `${join(where, field)}: lists the same value twice`;
    case 'minLength':
      return `${join(where, field)}: must not be empty`;
    case 'minItems':
      return `${join(where, field)}: must list at least ${String(params.limit)}`;
    default:
      return `${join(where, field)}: ${err.message ?? 'does not match the catalog schema'}`;
  }
}
