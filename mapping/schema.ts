/**
 * The zod schema of the mapping document (mapping/customer-mapping.json).
 *
 * The document is configuration: source and destination tables, normalised fields, reject and
 * warning rules, and the destination rows written in a small expression language. The schema
 * checks shape only; references between parts (fields, columns, types) are checked by the engine's
 * compiler, which knows the whole document.
 */
import { z } from 'zod';

export const SQL_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

// '__proto__' as a key would replace an object's prototype instead of adding a property.
const notProto = (k: string): boolean => k !== '__proto__';
const key = z.string().min(1).refine(notProto, '"__proto__" is not allowed as a name');
const sqlIdentifier = z
  .string()
  .regex(SQL_IDENTIFIER, 'must be an SQL identifier matching ^[A-Za-z_][A-Za-z0-9_]*$')
  .refine(notProto, '"__proto__" is not allowed as a name');
const fieldName = z.string().regex(SQL_IDENTIFIER, 'a field name must match ^[A-Za-z_][A-Za-z0-9_]*$').refine(notProto, '"__proto__" is not allowed as a name');
const typeName = z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'a customer type must be UPPER_SNAKE_CASE');
const issueCode = z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'a reason code must be UPPER_SNAKE_CASE');
const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()], {
  errorMap: () => ({ message: 'must be a string, number, boolean or null' }),
});
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD or "runDate"');

export type Scalar = z.infer<typeof scalar>;

/** Values the service configuration supplies (see MappingConstants). */
export const CONSTANT_NAMES = ['tenantId', 'migrationUserId', 'migrationUserName'] as const;
/** Per-row values the caller supplies (see RowContext). */
export const CONTEXT_NAMES = ['customerId', 'customerProfileId', 'runDate'] as const;
/** What a branch_map lookup provides (see BranchRef). */
export const LOOKUP_PROPERTIES = ['branchId', 'branchName'] as const;

// ---------------------------------------------------------------------------------------------
// Expressions: one operator key per object. Conditions are expressions that yield booleans.

export type Expr =
  | { field: string; get?: string }
  | { const: Scalar }
  | { config: (typeof CONSTANT_NAMES)[number] }
  | { context: (typeof CONTEXT_NAMES)[number] }
  | { join: Expr[]; sep: string }
  | { map: Expr; values: Record<string, Scalar>; default?: Scalar }
  | { padStart: Expr; length: number; fill: string }
  | { if: Expr; then: Expr; else: Expr }
  | { object: Record<string, Expr> }
  | { byType: Record<string, Expr> }
  | { missing: string; types?: string[] }
  | { present: string; types?: string[] }
  | { equals: [string, Scalar]; types?: string[] }
  | { lessThan: [string, number]; types?: string[] }
  | { anyOf: Expr[] }
  | { allOf: Expr[] }
  | { not: Expr };

export const expr: z.ZodType<Expr> = z.lazy(() => exprDispatch);

const types = z.array(typeName).min(1).optional();

const OPERATORS: Record<string, z.ZodTypeAny> = {
  field: z.object({ field: fieldName, get: z.string().min(1).optional() }).strict(),
  const: z.object({ const: scalar }).strict(),
  config: z.object({ config: z.enum(CONSTANT_NAMES) }).strict(),
  context: z.object({ context: z.enum(CONTEXT_NAMES) }).strict(),
  join: z.object({ join: z.array(expr).min(1), sep: z.string() }).strict(),
  map: z.object({ map: expr, values: z.record(key, scalar), default: scalar.optional() }).strict(),
  padStart: z.object({ padStart: expr, length: z.number().int().min(1).max(1000), fill: z.string().length(1) }).strict(),
  if: z.object({ if: expr, then: expr, else: expr }).strict(),
  object: z.object({ object: z.record(key, expr) }).strict(),
  byType: z.object({ byType: z.record(typeName, expr) }).strict(),
  missing: z.object({ missing: fieldName, types }).strict(),
  present: z.object({ present: fieldName, types }).strict(),
  equals: z.object({ equals: z.tuple([fieldName, scalar]), types }).strict(),
  lessThan: z.object({ lessThan: z.tuple([fieldName, z.number()]), types }).strict(),
  anyOf: z.object({ anyOf: z.array(expr).min(1) }).strict(),
  allOf: z.object({ allOf: z.array(expr).min(1) }).strict(),
  not: z.object({ not: expr }).strict(),
};
const OPERATOR_LIST = Object.keys(OPERATORS).join(', ');

// Dispatching on the operator key gives precise messages where a plain z.union would only say
// "Invalid input" for every branch.
const exprDispatch = z.any().superRefine((value, ctx) => {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be an expression object with one operator key (${OPERATOR_LIST})` });
    return;
  }
  const ops = Object.keys(value).filter((k) => Object.prototype.hasOwnProperty.call(OPERATORS, k));
  if (ops.length !== 1) {
    const found = Object.keys(value).join(', ') || 'none';
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      message: `an expression needs exactly one operator key (${OPERATOR_LIST}); keys found: ${found}`,
    });
    return;
  }
  const result = OPERATORS[ops[0]].safeParse(value);
  if (!result.success) {
    for (const issue of result.error.issues) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: issue.message, path: issue.path });
    }
  }
}) as unknown as z.ZodType<Expr>;

// ---------------------------------------------------------------------------------------------
// Normalisers: how a raw source value becomes a field value (or missing, or invalid).

const dateBound = z.union([z.literal('runDate'), isoDate]);

export const normaliserSchema = z.discriminatedUnion('kind', [
  /** The value exactly as given (timestamps: microseconds must survive). */
  z.object({ kind: z.literal('raw') }).strict(),
  /** Trimmed text; blank is missing. */
  z.object({ kind: z.literal('text') }).strict(),
  /** Trimmed, upper-cased text. */
  z.object({ kind: z.literal('upper') }).strict(),
  /** Trimmed text looked up in `values`; no entry is invalid. */
  z
    .object({
      kind: z.literal('enum'),
      values: z.record(key, z.string().min(1)),
      caseInsensitive: z.boolean().default(true),
    })
    .strict(),
  /** A date in one of `formats` (tokens YYYY, MM, DD, Mon), written YYYY-MM-DD, within [min, max]. */
  z
    .object({
      kind: z.literal('date'),
      formats: z.array(z.string().min(1)).min(1),
      min: dateBound.optional(),
      max: dateBound.optional(),
    })
    .strict(),
  /** Trimmed, lower-cased, must match `pattern`. */
  z.object({ kind: z.literal('email'), pattern: z.string().min(1) }).strict(),
  /** Digits (and a leading +) kept, then national / country-code / international rules. */
  z
    .object({
      kind: z.literal('phone'),
      countryCode: z.string().regex(/^\d{1,4}$/, 'must be 1 to 4 digits'),
      nationalPrefix: z.string().regex(/^\d{1,4}$/, 'must be 1 to 4 digits'),
      nationalDigits: z.number().int().min(1).max(20),
      internationalDigits: z
        .object({ min: z.number().int().min(1).max(30), max: z.number().int().min(1).max(30) })
        .strict()
        .refine((r) => r.min <= r.max, 'min must not exceed max'),
    })
    .strict(),
  /** Trimmed text that must match `pattern`. */
  z.object({ kind: z.literal('pattern'), pattern: z.string().min(1) }).strict(),
  /** A number kept as it is; integer text becomes a number; anything else is missing. */
  z.object({ kind: z.literal('integer') }).strict(),
  /** A boolean; text in `true` / `false` (any case) is accepted; anything else is missing. */
  z.object({ kind: z.literal('boolean'), true: z.array(z.string().min(1)), false: z.array(z.string().min(1)) }).strict(),
  /** A reference-data lookup by the trimmed (optionally upper-cased) value; not found is invalid. */
  z.object({ kind: z.literal('lookup'), table: z.literal('branch_map'), keyCase: z.enum(['upper', 'asIs']) }).strict(),
]);

export type NormaliserDef = z.infer<typeof normaliserSchema>;

export const fieldSchema = z
  .object({
    source: sqlIdentifier,
    normaliser: normaliserSchema,
    /** The customer types that use the field; absent means all. Other types ignore it entirely. */
    types,
    /** The value when the source value is missing. */
    default: scalar.optional(),
    /** A value that replaces the normalised one (even an invalid one) when `when` holds. */
    override: z.object({ when: expr, value: scalar }).strict().optional(),
  })
  .strict();

export type FieldDef = z.infer<typeof fieldSchema>;

const tableSchema = z
  .object({
    table: sqlIdentifier,
    key: sqlIdentifier,
    /** In DDL order: the keys of the mapped rows follow it. */
    columns: z.array(sqlIdentifier).min(1),
  })
  .strict();

export const mappingDocumentSchema = z
  .object({
    version: z.literal(1),
    description: z.string().optional(),
    source: z
      .object({
        schema: sqlIdentifier,
        table: sqlIdentifier,
        key: sqlIdentifier,
        watermark: sqlIdentifier,
        columns: z.array(sqlIdentifier).min(1),
      })
      .strict(),
    destination: z.object({ schema: sqlIdentifier, customer: tableSchema, profile: tableSchema }).strict(),
    /** The field whose (enum) value selects the customer type, and the types it can produce. */
    customerType: z.object({ field: fieldName, values: z.array(typeName).min(1) }).strict(),
    fields: z.record(fieldName, fieldSchema),
    rejects: z
      .object({
        /** Precedence: a row is rejected with the first applicable code in this list. */
        order: z.array(issueCode).min(1),
        rules: z.array(z.object({ code: issueCode, field: fieldName, when: z.enum(['missing', 'invalid', 'missingOrInvalid']) }).strict()),
      })
      .strict(),
    /** A present but invalid value of `field` is nulled and reported with `code`. */
    warnings: z.array(z.object({ code: issueCode, field: fieldName }).strict()),
    /** One expression per destination column. */
    rows: z.object({ customer: z.record(sqlIdentifier, expr), profile: z.record(sqlIdentifier, expr) }).strict(),
  })
  .strict();

export type MappingDocument = z.infer<typeof mappingDocumentSchema>;
