/**
 * What the engine's phases hand each other: check resolves the document into fields and rules,
 * compile turns them into one plan per customer type, the row function runs the plans.
 */
import type { BranchLookup, RowContext, SourceRow } from '../types';
import type { FieldDef, Scalar } from '../schema';
import type { NormaliserFn } from '../normalisers';
import { DocumentProblem, type JsonPath } from '../errors';

/** A row's normalised values, one slot per declared field. */
export type Vals = unknown[];
/** A compiled expression: its value for one row. */
export type Fn = (vals: Vals, ctx: RowContext) => unknown;

export interface FieldInfo {
  name: string;
  slot: number;
  def: FieldDef;
  source: string;
  norm: NormaliserFn;
  types: ReadonlySet<string>;
  canBeInvalid: boolean;
  lookup: boolean;
}

export interface RejectRule {
  field: FieldInfo;
  code: string;
  rank: number;
  onMissing: boolean;
  onInvalid: boolean;
}

export interface WarningRule {
  field: FieldInfo;
  code: string;
}

/** A document whose references all resolve; rules in precedence order. */
export interface CheckedDocument {
  /** Declared fields by name, slots in declaration order. */
  fields: ReadonlyMap<string, FieldInfo>;
  /** The field whose value selects the customer type. */
  typeField: FieldInfo;
  customerTypes: readonly string[];
  /** Sorted by the code's rank in rejects.order, declaration order within a code. */
  rules: readonly RejectRule[];
  warnings: readonly WarningRule[];
  /** The rules on the customer type field (checked before any plan is chosen). */
  typeRules: readonly RejectRule[];
}

/** Reads and normalises one field's column into its slot; `dflt` replaces a missing value. */
export interface NormaliseStep {
  slot: number;
  source: string;
  own: boolean;
  norm: NormaliserFn;
  dflt: unknown;
}

export interface RuleStep {
  slot: number;
  source: string;
  own: boolean;
  code: string;
  onMissing: boolean;
  onInvalid: boolean;
}

export interface WarnStep {
  slot: number;
  source: string;
  own: boolean;
  code: string;
}

export type NormalisePhase = (row: SourceRow, ctx: RowContext, branches: BranchLookup, vals: Vals) => void;

/** Everything a row of one customer type goes through, compiled. */
export interface Plan {
  type: string;
  /** Reads and normalises the type's fields into vals (defaults applied). */
  normalise: NormalisePhase;
  overrides: { slot: number; when: Fn; value: Scalar }[];
  rejects: RuleStep[];
  warns: WarnStep[];
  customer: Fn;
  profile: Fn;
}

export const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/** A column named like an Object.prototype member (e.g. "constructor") is read as an own property only. */
export const shadowsPrototype = (column: string): boolean => column in Object.prototype;

/** Reads a column; `own` (see shadowsPrototype): never the prototype's value. */
export function readRaw(row: SourceRow, column: string, own: boolean): unknown {
  return own ? (hasOwn(row, column) ? row[column] : undefined) : row[column];
}

export const problem = (path: JsonPath, detail: string): never => {
  throw new DocumentProblem(path, detail);
};

export const quoteList = (xs: Iterable<string>): string => [...xs].map((x) => `"${x}"`).join(', ');
