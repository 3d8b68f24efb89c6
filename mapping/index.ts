/**
 * The mapping engine's entry points: load and compile the mapping document once at start-up, then
 * call `mapRow` for every staged row.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import type { ZodIssue } from 'zod';
import { mappingDocumentSchema, CONSTANT_NAMES, type MappingDocument } from './schema';
import { compileDocument } from './engine';
import { DocumentProblem, MappingConfigError, formatJsonPath } from './errors';
import type { CompiledMapping, MappingConstants } from './types';

export { MappingConfigError } from './errors';
export type * from './types';

/** Reads, validates and compiles the mapping file; any problem is a one-line MappingConfigError. */
export function loadMappingFile(filePath: string, constants: MappingConstants): CompiledMapping {
  const { doc, text } = readMappingJson(filePath);
  return compileMapping(doc, constants, `file ${filePath}`, sha256(text));
}

/** The mapping document as written (comments removed), for tools that show it (explain); compile it with loadMappingFile first. */
export function readMappingDocument(filePath: string): MappingDocument {
  const parsed = mappingDocumentSchema.safeParse(withoutComments(readMappingJson(filePath).doc));
  if (!parsed.success) throw new MappingConfigError(`file ${filePath}`, formatJsonPath(parsed.error.issues[0].path), parsed.error.issues[0].message);
  return parsed.data;
}

function readMappingJson(filePath: string): { doc: unknown; text: string } {
  const origin = `file ${filePath}`;
  let text: string;
  try {
    text = fs.readFileSync(filePath, 'utf8');
  } catch (e) {
    throw new MappingConfigError(origin, '$', `cannot read the file: ${(e as Error).message}`);
  }
  try {
    return { doc: JSON.parse(text.replace(/^\uFEFF/, '')), text };
  } catch (e) {
    throw new MappingConfigError(origin, '$', `not valid JSON: ${describeJsonError(text, e as Error)}`);
  }
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/**
 * Validates and compiles a parsed mapping document. `origin` names it in error messages;
 * `documentSha256` is the digest of the document as loaded (of its JSON text when none is given).
 */
export function compileMapping(
  doc: unknown,
  constants: MappingConstants,
  origin = 'document',
  documentSha256 = sha256(JSON.stringify(doc) ?? ''),
): CompiledMapping {
  for (const name of CONSTANT_NAMES) {
    const v = (constants as unknown as Record<string, unknown> | null)?.[name];
    if (typeof v !== 'string' || v.trim() === '') {
      throw new MappingConfigError(origin, `constants.${name}`, 'must be a non-empty string (from the service configuration)');
    }
  }
  const cleaned = withoutComments(doc);
  const parsed = mappingDocumentSchema.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const more = parsed.error.issues.length > 1 ? ` (and ${parsed.error.issues.length - 1} more problem(s))` : '';
    throw new MappingConfigError(origin, formatJsonPath(issue.path), describeIssue(issue, cleaned) + more);
  }
  try {
    const { tenantId, migrationUserId, migrationUserName } = constants;
    return { ...compileDocument(parsed.data, constants), identity: { documentSha256, constants: { tenantId, migrationUserId, migrationUserName } } };
  } catch (e) {
    if (e instanceof DocumentProblem) throw new MappingConfigError(origin, formatJsonPath(e.path), e.detail);
    throw e;
  }
}

function describeIssue(issue: ZodIssue, doc: unknown): string {
  let value: unknown = doc;
  for (const seg of issue.path) {
    value = value !== null && typeof value === 'object' ? (value as Record<string | number, unknown>)[seg] : undefined;
  }
  const shown = value === undefined || (value !== null && typeof value === 'object') ? '' : ` (got ${short(JSON.stringify(value))})`;
  return issue.message + shown;
}

function short(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function describeJsonError(text: string, e: Error): string {
  const m = /position (\d+)/.exec(e.message);
  if (m === null) return short(e.message);
  const before = text.slice(0, Number(m[1])).split('\n');
  return `${short(e.message)} (line ${before.length}, column ${before[before.length - 1].length + 1})`;
}

/** "$comment" keys annotate the document anywhere; they are not part of the mapping. */
function withoutComments(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutComments);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    if (k === '$comment') continue;
    // defineProperty: an own "__proto__" key stays a plain key, refused by the schema.
    Object.defineProperty(out, k, { value: withoutComments(x), enumerable: true, writable: true, configurable: true });
  }
  return out;
}
