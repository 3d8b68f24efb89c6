/**
 * `migrate preflight`: what would block or trouble a run, found before the window, writing nothing.
 * Every database read runs inside a READ ONLY transaction (or is a single SELECT); Temporal is only
 * described (system info, namespace, task queue, search attributes): no workflow is started.
 */
import type { Client } from '@temporalio/client';
import type { AppConfig } from '../config/env';
import {
  canCreateInSchema,
  readServerInfo,
  readTableColumns,
  readTableKeys,
  readTablePrivileges,
  type ColumnInfo,
  type KeyConstraint,
  type ServerInfo,
  type TablePrivileges,
} from '../db/catalog';
import type { DatabaseRole, Pools } from '../db/pools';
import { unreachableMessage } from '../db/preflight';
import { countRowsByValue, readCodesCreatedSince, readDuplicateKeys, readSourceSample, readSourceSanity, type SourceSanity } from '../db/source/sanity';
import { readStagedCodes } from '../db/staging/customers';
import { STAGING_TABLES } from '../db/staging/preflight';
import { readLastCompletedRun, type CompletedRunRates } from '../db/staging/runs';
import { readWatermark, type WatermarkInfo } from '../db/staging/watermarks';
import { withReadOnlyTransaction } from '../db/transaction';
import { readBranches } from '../activities/staged';
import { plainMessage } from '../db/errors';
import { missingSearchAttributes, taskQueuePollers } from '../lib/temporal';
import type { CompiledMapping } from '../mapping/types';
import { mapPreviewRows, type Preview } from './commands/preview';
import { formatDuration } from './render';

export type Severity = 'BLOCKER' | 'WARNING' | 'INFO';
export type Area = 'source' | 'staging' | 'destination' | 'temporal' | 'reference-data' | 'estimate';

export interface Finding {
  severity: Severity;
  area: Area;
  /** A stable name of the check, e.g. 'destination.column-missing'. */
  check: string;
  message: string;
  details?: Record<string, unknown>;
}

export interface PreflightEstimate {
  sampleSize: number;
  sourceRows: number;
  rejected: { sample: number; estimated: number; ratio: number; byReason: { reason: string; sample: number; estimated: number }[] };
  warned: { sample: number; estimated: number; byReason: { reason: string; sample: number; estimated: number }[] };
  duration: { seconds: number; rowsPerSecond: number; fromRunId: number; fromWorkflowId: string } | null;
}

export interface PreflightReport {
  /** No BLOCKER: the run can start. */
  ok: boolean;
  counts: { blockers: number; warnings: number; infos: number };
  findings: Finding[];
  estimate: PreflightEstimate | null;
  checkedAt: string;
  /** Always true: preflight writes nothing anywhere (read-only transactions, Temporal described only). */
  wroteNothing: true;
}

export interface PreflightDeps {
  config: AppConfig;
  mapping: CompiledMapping;
  pools: Pools;
  /** Connects to Temporal (throws when it cannot). */
  temporal: () => Promise<Client>;
  /** Now, for the pollers' age; Date.now by default. */
  now?: () => number;
}

/** The source column whose creation time tells a new customer from an old one (contract section 1). */
const CREATED_COLUMN = 'created_at';
/** A live worker polls again at least this often (long polls last about a minute): an older poller is gone. */
const POLLER_STALE_MS = 90_000;
const MIN_PG_VERSION = 130000;
const MAX_LISTED = 20;

/** What a mapped destination value is, judged from the values the engine produced for the sample. */
type ValueKind = 'uuid' | 'boolean' | 'integer' | 'number' | 'json' | 'timestamp' | 'date' | 'text';
const TEXT_TYPES = new Set(['text', 'varchar', 'bpchar', 'citext', 'name']);
const ACCEPTS: Record<ValueKind, Set<string>> = {
  uuid: new Set(['uuid']),
  boolean: new Set(['bool']),
  integer: new Set(['int2', 'int4', 'int8', 'numeric', 'float4', 'float8']),
  number: new Set(['numeric', 'float4', 'float8']),
  json: new Set(['json', 'jsonb']),
  timestamp: new Set(['timestamptz', 'timestamp']),
  date: new Set(['date', 'timestamptz', 'timestamp']),
  text: new Set(),
};
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function valueKind(v: unknown): ValueKind {
  if (typeof v === 'boolean') return 'boolean';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  if (typeof v === 'object') return 'json';
  const s = String(v);
  if (UUID.test(s)) return 'uuid';
  if (/^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}/.test(s) || s === 'infinity' || s === '-infinity') return 'timestamp';
  if (/^\d{4}-\d{2}-\d{2}$/.test(s)) return 'date';
  return 'text';
}

/** What the sample's mapped values need of each destination column. */
interface ColumnUse {
  kinds: Set<ValueKind>;
  nulls: number;
  longest: number;
}

function columnUses(rows: Record<string, unknown>[]): Map<string, ColumnUse> {
  const uses = new Map<string, ColumnUse>();
  for (const row of rows) {
    for (const [column, v] of Object.entries(row)) {
      const use = uses.get(column) ?? { kinds: new Set(), nulls: 0, longest: 0 };
      if (v === null || v === undefined) use.nulls++;
      else {
        use.kinds.add(valueKind(v));
        if (typeof v === 'string') use.longest = Math.max(use.longest, [...v].length);
      }
      uses.set(column, use);
    }
  }
  return uses;
}

class Findings {
  readonly list: Finding[] = [];
  add(severity: Severity, area: Area, check: string, message: string, details?: Record<string, unknown>): void {
    this.list.push({ severity, area, check, message, ...(details ? { details } : {}) });
  }
}

const count = (n: number) => n.toLocaleString('en-US');
const examples = (codes: number[]) => (codes.length ? ` (e.g. codes ${codes.slice(0, 5).join(', ')})` : '');

async function serverOf(f: Findings, role: DatabaseRole, pools: Pools): Promise<ServerInfo | null> {
  try {
    const info = await withReadOnlyTransaction(pools[role], (c) => readServerInfo(c));
    f.add(
      'INFO',
      role,
      `${role}.server`,
      `PostgreSQL ${info.version}, database ${info.database}, user ${info.user}${info.superuser ? ' (superuser)' : ''}${info.inRecovery ? ', a standby (read-only)' : ''}`,
      { ...info },
    );
    if (info.versionNum < MIN_PG_VERSION)
      f.add('WARNING', role, `${role}.server-version`, `PostgreSQL ${info.version} is older than 13, which this service is not tested on`);
    if (role !== 'source' && (info.inRecovery || info.readOnlyByDefault)) {
      f.add(
        'BLOCKER',
        role,
        `${role}.read-only-server`,
        `the ${role} server accepts no writes (${info.inRecovery ? 'a standby in recovery' : 'default_transaction_read_only is on'})`,
      );
    }
    return info;
  } catch (err) {
    f.add('BLOCKER', role, `${role}.unreachable`, unreachableMessage(role, err));
    return null;
  }
}

function privilegeList(p: TablePrivileges, wanted: (keyof TablePrivileges)[]): string[] {
  return wanted.filter((k) => !p[k]).map((k) => k.toUpperCase());
}

/** The branch map as the load reads it. */
type Branches = Awaited<ReturnType<typeof readBranches>>;

/** Everything the source can tell, read in one READ ONLY transaction. */
interface SourceFacts {
  privileges: TablePrivileges;
  columns: ColumnInfo[];
  sanity: SourceSanity | null;
  duplicates: { total: number; examples: { code: number; rows: number }[] } | null;
  lookupValues: Map<string, { value: string | null; rows: number }[]>;
  createdSince: number[] | null;
  sample: Preview['rows'];
  sampleIssues: Preview['issues'];
}

async function readSourceFacts(deps: PreflightDeps, watermark: WatermarkInfo | null, branches: Branches | null, sampleSize: number): Promise<SourceFacts> {
  const { mapping } = deps;
  const t = mapping.source;
  return withReadOnlyTransaction(deps.pools.source, async (c) => {
    const privileges = await readTablePrivileges(c, t.schema, t.table);
    const columns = privileges.exists ? await readTableColumns(c, t.schema, t.table) : [];
    const facts: SourceFacts = {
      privileges,
      columns,
      sanity: null,
      duplicates: null,
      lookupValues: new Map(),
      createdSince: null,
      sample: [],
      sampleIssues: [],
    };
    const present = new Set(columns.map((col) => col.name));
    if (!privileges.select || t.columns.some((col) => !present.has(col))) return facts;
    // An incremental run reads rows at or after the watermark minus the look-back.
    facts.sanity = await readSourceSanity(c, t, watermark?.since ?? null);
    facts.duplicates = await readDuplicateKeys(c, t, MAX_LISTED);
    for (const lookup of mapping.lookups) facts.lookupValues.set(lookup.field, await countRowsByValue(c, t, lookup.source));
    if (watermark && present.has(CREATED_COLUMN)) facts.createdSince = await readCodesCreatedSince(c, t, CREATED_COLUMN, watermark.watermark);
    if (branches) {
      const rows = await readSourceSample(c, t, t.columns, sampleSize, facts.sanity.rows);
      const runDate = new Date().toISOString().slice(0, 10);
      const mapped = mapPreviewRows(mapping, rows, { runDate, ids: new Map(), branches: branches.lookup });
      facts.sample = mapped.rows;
      facts.sampleIssues = mapped.issues;
    }
    return facts;
  });
}

function sourceFindings(f: Findings, deps: PreflightDeps, s: SourceFacts, watermark: WatermarkInfo | null): void {
  const t = deps.mapping.source;
  const name = `${t.schema}.${t.table}`;
  if (!s.privileges.exists) return f.add('BLOCKER', 'source', 'source.table-missing', `source table ${name} does not exist (or the user cannot see it)`);
  if (!s.privileges.select) return f.add('BLOCKER', 'source', 'source.not-readable', `user cannot SELECT from ${name}`);
  const writes = (['insert', 'update', 'delete', 'truncate'] as const).filter((k) => s.privileges[k]).map((k) => k.toUpperCase());
  if (writes.length)
    f.add(
      'WARNING',
      'source',
      'source.writable',
      `the migration user may ${writes.join('/')} ${name}: the service only reads it (a read-only role is advised)`,
    );
  else f.add('INFO', 'source', 'source.read-only', `the migration user reads ${name} and may not write it`);
  const present = new Set(s.columns.map((c) => c.name));
  const missing = t.columns.filter((c) => !present.has(c));
  if (missing.length)
    return f.add('BLOCKER', 'source', 'source.column-missing', `${name} has no column(s) ${missing.join(', ')} named by the mapping`, { columns: missing });
  const q = s.sanity!;
  f.add('INFO', 'source', 'source.rows', `${count(q.rows)} rows in ${name}`, { rows: q.rows, sourceNow: q.sourceNow });
  if (q.futureDated) {
    f.add(
      'WARNING',
      'source',
      'source.future-dated',
      `${count(q.futureDated)} row(s) with ${t.watermark} after the source's clock (${q.sourceNow})${examples(q.futureExamples)}: loaded, but re-read by every incremental run and listed as futureDated`,
      { rows: q.futureDated, examples: q.futureExamples },
    );
  }
  if (q.nullWatermark) {
    f.add(
      'WARNING',
      'source',
      'source.null-watermark',
      `${count(q.nullWatermark)} row(s) with no ${t.watermark}${examples(q.nullExamples)}: an incremental run never reads them (only a full run does)`,
      { rows: q.nullWatermark, examples: q.nullExamples },
    );
  }
  if (s.duplicates?.total) {
    f.add(
      'BLOCKER',
      'source',
      'source.duplicate-codes',
      `${count(s.duplicates.total)} ${t.key} value(s) held by more than one row${examples(s.duplicates.examples.map((d) => d.code))}: staging keeps one row per code, the extraction would fail`,
      { total: s.duplicates.total, examples: s.duplicates.examples },
    );
  }
  if (watermark && s.sanity?.changedSince !== null) {
    f.add(
      'INFO',
      'source',
      'source.changed-since-watermark',
      `${count(q.changedSince!)} row(s) changed since the watermark minus the ${deps.config.INCREMENTAL_LOOKBACK_SECONDS}s look-back: what an incremental run would read`,
      { rows: q.changedSince },
    );
  }
}

function referenceFindings(f: Findings, deps: PreflightDeps, s: SourceFacts, branches: Branches): void {
  for (const lookup of deps.mapping.lookups) {
    const values = s.lookupValues.get(lookup.field);
    if (!values) continue;
    const reason = lookup.rejectReason ?? 'no reject rule';
    const missing = new Map<string, number>();
    let empty = 0;
    let used = 0;
    for (const v of values) {
      const key = lookup.key(v.value);
      if (key === null) empty += v.rows;
      else if (!branches.lookup.has(key)) missing.set(key, (missing.get(key) ?? 0) + v.rows);
      else used++;
    }
    const sorted = [...missing].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    for (const [key, rows] of sorted.slice(0, MAX_LISTED)) {
      f.add(
        'WARNING',
        'reference-data',
        'reference.branch-missing',
        `${lookup.source} ${JSON.stringify(key)} is not in ${lookup.table}: ${count(rows)} source row(s) would be rejected (${reason})`,
        { code: key, rows, reason },
      );
    }
    if (sorted.length > MAX_LISTED) {
      const rest = sorted.slice(MAX_LISTED).reduce((n, [, r]) => n + r, 0);
      f.add(
        'WARNING',
        'reference-data',
        'reference.branch-missing',
        `${sorted.length - MAX_LISTED} more ${lookup.source} value(s) not in ${lookup.table}: ${count(rest)} more row(s) would be rejected (${reason})`,
      );
    }
    if (empty)
      f.add('WARNING', 'reference-data', 'reference.branch-empty', `${count(empty)} source row(s) have no ${lookup.source}: rejected (${reason})`, {
        rows: empty,
        reason,
      });
    if (!sorted.length)
      f.add(
        'INFO',
        'reference-data',
        'reference.branches',
        `every ${lookup.source} the source uses (${used}) is in ${lookup.table} (${branches.lookup.size} rows)`,
      );
  }
}

/** One destination table as read for the checks: its privileges, columns and keys. */
interface DestinationTable {
  role: 'customer' | 'profile';
  privileges: TablePrivileges;
  columns: ColumnInfo[];
  keys: KeyConstraint[];
}

/** What the mapping expects of one destination table, and the names its findings use. */
interface MappedTable {
  /** The table's name alone (in details) and schema-qualified (in messages). */
  table: string;
  name: string;
  /** The columns the mapping writes, and the upsert's key column. */
  mapped: readonly string[];
  key: string;
}

function mappedTable(d: CompiledMapping['destination'], role: DestinationTable['role']): MappedTable {
  const table = role === 'customer' ? d.customerTable : d.profileTable;
  return {
    table,
    name: `${d.schema}.${table}`,
    mapped: role === 'customer' ? d.customerColumns : d.profileColumns,
    key: role === 'customer' ? d.customerKey : d.profileKey,
  };
}

/** May the migration user write the table, and alter it (for a bulk load's index rebuild)? */
function accessFindings(f: Findings, { name }: MappedTable, privileges: TablePrivileges): void {
  const lacking = privilegeList(privileges, ['select', 'insert', 'update']);
  if (lacking.length) f.add('BLOCKER', 'destination', 'destination.not-writable', `the migration user lacks ${lacking.join(', ')} on ${name}`);
  else f.add('INFO', 'destination', 'destination.writable', `the migration user may SELECT, INSERT and UPDATE ${name}`);
  f.add(
    'INFO',
    'destination',
    'destination.can-alter',
    privileges.canAlter
      ? `the migration user may ALTER ${name} (owner or superuser): a bulk first load could drop and rebuild its indexes`
      : `the migration user may not ALTER ${name}: a bulk first load would have to keep its indexes (or run as the owner)`,
    { canAlter: privileges.canAlter },
  );
}

/** The table's columns against the mapping: none it writes missing, none it leaves out required. */
function columnFindings(f: Findings, { table, name, mapped }: MappedTable, columns: ColumnInfo[]): void {
  const present = new Set(columns.map((c) => c.name));
  for (const c of mapped.filter((m) => !present.has(m))) {
    f.add('BLOCKER', 'destination', 'destination.column-missing', `${name} has no column ${JSON.stringify(c)}, which the mapping writes`, {
      table,
      column: c,
    });
  }
  for (const c of columns.filter((col) => col.notNull && !col.hasDefault && !mapped.includes(col.name))) {
    f.add(
      'BLOCKER',
      'destination',
      'destination.not-null-unmapped',
      `${name}.${JSON.stringify(c.name)} is NOT NULL without a default and the mapping does not write it: every insert would fail`,
      { table, column: c.name },
    );
  }
}

/** The sample's mapped values against the column types: type, length and NOT NULL. */
function sampledValueFindings(f: Findings, { table, name }: MappedTable, columns: ColumnInfo[], rows: Record<string, unknown>[]): void {
  const byName = new Map(columns.map((c) => [c.name, c]));
  for (const [column, use] of columnUses(rows)) {
    const c = byName.get(column);
    if (!c) continue;
    const bad = TEXT_TYPES.has(c.baseType) ? [] : [...use.kinds].filter((k) => !ACCEPTS[k].has(c.baseType));
    if (bad.length)
      f.add(
        'BLOCKER',
        'destination',
        'destination.type-mismatch',
        `${name}.${JSON.stringify(column)} is ${c.type}, but the mapping writes ${bad.join('/')} values into it`,
        {
          table,
          column,
          type: c.type,
          values: bad,
        },
      );
    if (c.maxLength !== null && use.longest > c.maxLength) {
      f.add(
        'WARNING',
        'destination',
        'destination.value-too-long',
        `${name}.${JSON.stringify(column)} is ${c.type}, and sampled values are up to ${use.longest} characters: their batches would fail`,
        { table, column, longest: use.longest },
      );
    }
    if (c.notNull && use.nulls) {
      f.add(
        'WARNING',
        'destination',
        'destination.null-into-not-null',
        `${name}.${JSON.stringify(column)} is NOT NULL, and the mapping gave ${use.nulls} of ${rows.length} sampled row(s) no value: their batches would fail`,
        { table, column, rows: use.nulls },
      );
    }
  }
  if (!rows.length)
    f.add('INFO', 'destination', 'destination.types-unchecked', `no sampled row loads: the column types of ${name} were not compared with mapped values`);
}

/** Is there a primary key or unique constraint on exactly these columns? */
const hasUniqueKey = (keys: KeyConstraint[], cols: string[]): boolean =>
  keys.some((k) => k.kind !== 'FOREIGN KEY' && k.columns.length === cols.length && cols.every((c) => k.columns.includes(c)));

/** The profile table's contract keys: customerId and customerNumber unique, and its foreign key to the customer table. */
function profileKeyFindings(
  f: Findings,
  d: CompiledMapping['destination'],
  { table, name, mapped }: MappedTable,
  keys: KeyConstraint[],
  customerExists: boolean,
): void {
  for (const c of [d.customerKey, 'customerNumber'].filter((col) => mapped.includes(col))) {
    if (!hasUniqueKey(keys, [c]))
      f.add(
        'WARNING',
        'destination',
        'destination.unique-missing',
        `${name}.${JSON.stringify(c)} is not unique: the contract makes it one customer's (a re-run could not be told from a duplicate)`,
        { table, column: c },
      );
  }
  const customerName = `${d.schema}.${d.customerTable}`;
  const fk = keys.some(
    (k) =>
      k.kind === 'FOREIGN KEY' &&
      k.columns.length === 1 &&
      k.columns[0] === d.customerKey &&
      k.references?.table === customerName &&
      k.references.columns[0] === d.customerKey,
  );
  if (!customerExists || !mapped.includes(d.customerKey)) return;
  if (fk) f.add('INFO', 'destination', 'destination.foreign-key', `${name}.${JSON.stringify(d.customerKey)} references ${customerName}`);
  else
    f.add(
      'WARNING',
      'destination',
      'destination.foreign-key-missing',
      `${name}.${JSON.stringify(d.customerKey)} has no foreign key to ${customerName}: nothing stops a profile without its customer`,
      { table },
    );
}

function destinationFindings(f: Findings, deps: PreflightDeps, tables: DestinationTable[], sample: Preview['rows']): void {
  const d = deps.mapping.destination;
  const customerExists = tables.some((t) => t.role === 'customer' && t.privileges.exists);
  for (const t of tables) {
    const m = mappedTable(d, t.role);
    if (!t.privileges.exists) {
      f.add('BLOCKER', 'destination', 'destination.table-missing', `destination table ${m.name} does not exist (or the user cannot see it)`);
      continue;
    }
    accessFindings(f, m, t.privileges);
    columnFindings(f, m, t.columns);
    const rows = sample.flatMap((r) => (r.outcome === 'LOAD' ? [(t.role === 'customer' ? r.customer : r.profile)!] : []));
    sampledValueFindings(f, m, t.columns, rows);
    // Keys: the upsert key must be unique; the contract's unique keys and foreign key.
    if (!hasUniqueKey(t.keys, [m.key]))
      f.add(
        'BLOCKER',
        'destination',
        'destination.key-missing',
        `${m.name} has no primary key or unique constraint on ${JSON.stringify(m.key)}: the load's upsert (ON CONFLICT) needs one`,
        { table: m.table, column: m.key },
      );
    if (t.role === 'profile') profileKeyFindings(f, d, m, t.keys, customerExists);
  }
}

function estimateOf(f: Findings, deps: PreflightDeps, s: SourceFacts, lastRun: CompletedRunRates | null, sampleSize: number): PreflightEstimate | null {
  const rows = s.sanity?.rows ?? 0;
  const n = s.sample.length;
  if (!n) {
    if (s.sanity)
      f.add('INFO', 'estimate', 'estimate.none', rows ? 'no sample could be mapped: no estimate of rejects' : 'the source table is empty: nothing to estimate');
    return null;
  }
  const scale = (k: number) => Math.round((k / n) * rows);
  const by = (severity: 'REJECT' | 'WARNING') => {
    const m = new Map<string, number>();
    for (const i of s.sampleIssues.filter((x) => x.severity === severity)) m.set(i.reason, (m.get(i.reason) ?? 0) + i.count);
    return [...m].sort((a, b) => b[1] - a[1]).map(([reason, k]) => ({ reason, sample: k, estimated: scale(k) }));
  };
  const rejectedSample = s.sample.filter((r) => r.outcome === 'REJECT').length;
  const warnedSample = s.sample.filter((r) => r.outcome === 'LOAD' && r.warnings.length).length;
  const ratio = rejectedSample / n;
  const estimate: PreflightEstimate = {
    sampleSize: n,
    sourceRows: rows,
    rejected: { sample: rejectedSample, estimated: scale(rejectedSample), ratio, byReason: by('REJECT') },
    warned: { sample: warnedSample, estimated: scale(warnedSample), byReason: by('WARNING') },
    duration: null,
  };
  const list = (xs: { reason: string; estimated: number }[]) => xs.map((x) => `${x.reason} ~${count(x.estimated)}`).join(', ') || 'none';
  f.add(
    'INFO',
    'estimate',
    'estimate.rejects',
    `sample of ${count(n)} of ${count(rows)} rows mapped by the engine (requested ${count(sampleSize)}): ~${count(estimate.rejected.estimated)} rejects (${(100 * ratio).toFixed(1)}%): ${list(estimate.rejected.byReason)}`,
    { ...estimate.rejected },
  );
  f.add('INFO', 'estimate', 'estimate.warnings', `~${count(estimate.warned.estimated)} loaded rows with warnings: ${list(estimate.warned.byReason)}`, {
    ...estimate.warned,
  });
  const { REJECT_MAX_RATIO: maxRatio, REJECT_MAX_COUNT: maxCount } = deps.config;
  if (maxRatio !== undefined && ratio > maxRatio) {
    f.add(
      'BLOCKER',
      'estimate',
      'estimate.reject-threshold',
      `about ${(100 * ratio).toFixed(1)}% of the rows would be rejected, above REJECT_MAX_RATIO ${maxRatio}: the run would stop with RejectThresholdExceeded`,
    );
  } else if (maxCount !== undefined && estimate.rejected.estimated > maxCount) {
    f.add(
      'BLOCKER',
      'estimate',
      'estimate.reject-threshold',
      `about ${count(estimate.rejected.estimated)} rows would be rejected, above REJECT_MAX_COUNT ${maxCount}: the run would stop with RejectThresholdExceeded`,
    );
  }
  if (lastRun && lastRun.totalSeconds > 0 && lastRun.rowsStaged > 0) {
    const rowsPerSecond = lastRun.rowsStaged / lastRun.totalSeconds;
    estimate.duration = { seconds: rows / rowsPerSecond, rowsPerSecond, fromRunId: lastRun.runId, fromWorkflowId: lastRun.workflowId };
    f.add(
      'INFO',
      'estimate',
      'estimate.duration',
      `a full run of ${count(rows)} rows: about ${formatDuration(rows / rowsPerSecond)} at the ${Math.round(rowsPerSecond)} rows/s of the last completed ${lastRun.mode} run (${lastRun.workflowId}, ${count(lastRun.rowsStaged)} rows in ${formatDuration(lastRun.totalSeconds)}, finished ${lastRun.finishedAt})`,
      { ...estimate.duration },
    );
  } else {
    f.add(
      'INFO',
      'estimate',
      'estimate.duration',
      "no completed run yet: no duration estimate (run one in a rehearsal, or see the README's performance figures)",
    );
  }
  return estimate;
}

async function temporalFindings(f: Findings, deps: PreflightDeps): Promise<void> {
  const { config } = deps;
  let client: Client;
  try {
    client = await deps.temporal();
    const info = await client.connection.workflowService.getSystemInfo({});
    f.add('INFO', 'temporal', 'temporal.server', `Temporal server ${info.serverVersion || '(version not reported)'} at ${config.TEMPORAL_ADDRESS}`, {
      serverVersion: info.serverVersion,
    });
  } catch (err) {
    return f.add('BLOCKER', 'temporal', 'temporal.unreachable', `cannot reach Temporal at ${config.TEMPORAL_ADDRESS}: ${plainMessage(err)}`);
  }
  try {
    await client.connection.workflowService.describeNamespace({ namespace: config.TEMPORAL_NAMESPACE });
    f.add('INFO', 'temporal', 'temporal.namespace', `namespace ${config.TEMPORAL_NAMESPACE} is reachable`);
  } catch (err) {
    return f.add('BLOCKER', 'temporal', 'temporal.namespace', `namespace ${config.TEMPORAL_NAMESPACE}: ${plainMessage(err)}`);
  }
  try {
    const pollers = await taskQueuePollers(client, config.TEMPORAL_NAMESPACE, config.TEMPORAL_TASK_QUEUE);
    const now = (deps.now ?? Date.now)();
    const live = (ps: typeof pollers.workflow) => ps.filter((p) => p.lastAccessMs === null || now - p.lastAccessMs < POLLER_STALE_MS);
    const [workflow, activity] = [live(pollers.workflow), live(pollers.activity)];
    if (!workflow.length || !activity.length) {
      const none = [!workflow.length ? 'workflow' : '', !activity.length ? 'activity' : ''].filter(Boolean).join(' and ');
      f.add(
        'BLOCKER',
        'temporal',
        'temporal.no-pollers',
        `no worker polls task queue ${config.TEMPORAL_TASK_QUEUE} for ${none} tasks (none in the last ${POLLER_STALE_MS / 1000}s): start one with npm run worker`,
        {
          workflowPollers: workflow.length,
          activityPollers: activity.length,
        },
      );
    } else {
      const identities = [...new Set([...workflow, ...activity].map((p) => p.identity))];
      f.add(
        'INFO',
        'temporal',
        'temporal.pollers',
        `task queue ${config.TEMPORAL_TASK_QUEUE}: ${identities.length} worker(s) polling (${identities.join(', ')})`,
        { workers: identities },
      );
    }
  } catch (err) {
    f.add('BLOCKER', 'temporal', 'temporal.task-queue', `cannot describe task queue ${config.TEMPORAL_TASK_QUEUE}: ${plainMessage(err)}`);
  }
  try {
    const missing = await missingSearchAttributes(client, config.TEMPORAL_NAMESPACE);
    if (missing.length)
      f.add(
        'WARNING',
        'temporal',
        'temporal.search-attributes',
        `search attribute(s) ${missing.join(', ')} not registered in ${config.TEMPORAL_NAMESPACE}: runs work, but cannot be filtered (see README)`,
        { missing },
      );
    else f.add('INFO', 'temporal', 'temporal.search-attributes', 'search attributes MigrationMode, MigrationPhase, MigrationPipeline are registered');
  } catch (err) {
    f.add('WARNING', 'temporal', 'temporal.search-attributes', `cannot list search attributes: ${plainMessage(err)}`);
  }
}

async function stagingFindings(f: Findings, deps: PreflightDeps): Promise<void> {
  const missing: string[] = [];
  const lacking: string[] = [];
  await withReadOnlyTransaction(deps.pools.staging, async (c) => {
    if (!(await readTablePrivileges(c, 'public', 'migration_schema_version')).exists) {
      if (await canCreateInSchema(c, 'public'))
        f.add('INFO', 'staging', 'staging.not-migrated', 'the staging schema is not there yet: the worker creates it at start');
      else
        f.add(
          'BLOCKER',
          'staging',
          'staging.not-migrated',
          'the staging schema is not there yet and the user may not CREATE in schema public: the worker cannot migrate it',
        );
      return;
    }
    for (const table of STAGING_TABLES) {
      const p = await readTablePrivileges(c, 'public', table);
      if (!p.exists) missing.push(table);
      else {
        const l = privilegeList(p, ['select', 'insert', 'update', 'delete']);
        if (l.length) lacking.push(`${table} (${l.join(', ')})`);
      }
    }
    if (missing.length)
      f.add('BLOCKER', 'staging', 'staging.table-missing', `staging lacks table(s) ${missing.join(', ')}: start the worker once to migrate it`);
    if (lacking.length) f.add('BLOCKER', 'staging', 'staging.not-writable', `the migration user lacks privileges on ${lacking.join('; ')}`);
    if (!missing.length && !lacking.length)
      f.add('INFO', 'staging', 'staging.writable', `the migration user may read and write the ${STAGING_TABLES.length} staging tables`);
  });
}

/** What staging tells the source checks and the estimate: the watermark, the last run's rates, the branch map. */
interface StagingState {
  watermark: WatermarkInfo | null;
  lastRun: CompletedRunRates | null;
  branches: Branches | null;
}

function watermarkFindings(f: Findings, config: AppConfig, watermark: WatermarkInfo | null): void {
  if (watermark) {
    f.add(
      'INFO',
      'staging',
      'staging.watermark',
      `watermark ${watermark.watermark} (${formatDuration(watermark.ageSeconds)} old), set by run ${watermark.runId}: an incremental run reads rows changed since then minus ${config.INCREMENTAL_LOOKBACK_SECONDS}s`,
      { ...watermark },
    );
  } else {
    f.add(
      'INFO',
      'staging',
      'staging.watermark',
      `no watermark for pipeline ${config.PIPELINE} yet: the first run loads every row (an incremental run runs as a full run)`,
    );
  }
}

/** Staging's checks, then (when its tables are usable) the state the later checks need. */
async function stagingState(f: Findings, deps: PreflightDeps): Promise<StagingState> {
  const { config, pools } = deps;
  await stagingFindings(f, deps);
  if (f.list.some((x) => (x.area === 'staging' && x.severity === 'BLOCKER') || x.check === 'staging.not-migrated'))
    return { watermark: null, lastRun: null, branches: null };
  const [watermark, lastRun, branches] = await withReadOnlyTransaction(
    pools.staging,
    async (c) =>
      [
        await readWatermark(c, config.PIPELINE, config.INCREMENTAL_LOOKBACK_SECONDS),
        await readLastCompletedRun(c, config.PIPELINE),
        await readBranches(c),
      ] as const,
  );
  watermarkFindings(f, config, watermark);
  f.add(branches.lookup.size ? 'INFO' : 'WARNING', 'reference-data', 'reference.branch-map', `branch_map holds ${branches.lookup.size} branch(es)`);
  return { watermark, lastRun, branches };
}

/** Source rows created since the last run under a code staging already holds: a reused code. */
async function reusedCodeFindings(
  f: Findings,
  pools: Pools,
  createdSince: number[] | null,
  watermark: WatermarkInfo | null,
  stagingUp: boolean,
): Promise<void> {
  if (createdSince && !createdSince.length) {
    f.add('INFO', 'source', 'source.reused-codes', 'no source row was created since the last run: no code can have been reused');
    return;
  }
  if (!createdSince || !stagingUp) return;
  const reused = await withReadOnlyTransaction(pools.staging, (c) => readStagedCodes(c, createdSince));
  if (reused.length) {
    f.add(
      'WARNING',
      'source',
      'source.reused-codes',
      `${count(reused.length)} code(s) created in the source after the last run (${watermark!.watermark}) were already staged by an earlier run${examples(reused)}: a reused code overwrites the earlier customer, keeping its ids`,
      { count: reused.length, examples: reused.slice(0, MAX_LISTED) },
    );
  } else {
    f.add('INFO', 'source', 'source.reused-codes', `${count(createdSince.length)} row(s) created since the last run, none under a code staged before`);
  }
}

/** The source's checks (table, rows, reference data, reused codes); its facts feed the destination checks and the estimate. */
async function sourceChecks(f: Findings, deps: PreflightDeps, staging: StagingState, stagingUp: boolean, sampleSize: number): Promise<SourceFacts> {
  const { watermark, branches } = staging;
  const facts = await readSourceFacts(deps, watermark, branches, sampleSize);
  sourceFindings(f, deps, facts, watermark);
  if (branches) referenceFindings(f, deps, facts, branches);
  await reusedCodeFindings(f, deps.pools, facts.createdSince, watermark, stagingUp);
  return facts;
}

/** The customer and profile tables' privileges, columns and keys, in one READ ONLY transaction. */
async function readDestinationTables(deps: PreflightDeps): Promise<DestinationTable[]> {
  const d = deps.mapping.destination;
  return withReadOnlyTransaction(deps.pools.destination, async (c) => {
    const out: DestinationTable[] = [];
    for (const [role, table] of [
      ['customer', d.customerTable],
      ['profile', d.profileTable],
    ] as const) {
      out.push({
        role,
        privileges: await readTablePrivileges(c, d.schema, table),
        columns: await readTableColumns(c, d.schema, table),
        keys: await readTableKeys(c, d.schema, table),
      });
    }
    return out;
  });
}

/** Blockers first, then warnings, then infos; in the order found within each. */
function bySeverity(list: Finding[]): Finding[] {
  const rank: Record<Severity, number> = { BLOCKER: 0, WARNING: 1, INFO: 2 };
  return list
    .map((x, i) => [x, i] as const)
    .sort((a, b) => rank[a[0].severity] - rank[b[0].severity] || a[1] - b[1])
    .map(([x]) => x);
}

/** Runs every check; never throws for what it finds (an unreachable server is a BLOCKER finding). */
export async function runPreflight(deps: PreflightDeps, { sampleSize }: { sampleSize: number }): Promise<PreflightReport> {
  const f = new Findings();
  const { pools } = deps;
  const [source, staging, destination] = [await serverOf(f, 'source', pools), await serverOf(f, 'staging', pools), await serverOf(f, 'destination', pools)];
  const state: StagingState = staging ? await stagingState(f, deps) : { watermark: null, lastRun: null, branches: null };
  const facts = source ? await sourceChecks(f, deps, state, staging !== null, sampleSize) : null;
  if (destination) destinationFindings(f, deps, await readDestinationTables(deps), facts?.sample ?? []);
  const estimate = facts ? estimateOf(f, deps, facts, state.lastRun, sampleSize) : null;
  await temporalFindings(f, deps);

  const findings = bySeverity(f.list);
  const counts = {
    blockers: findings.filter((x) => x.severity === 'BLOCKER').length,
    warnings: findings.filter((x) => x.severity === 'WARNING').length,
    infos: findings.filter((x) => x.severity === 'INFO').length,
  };
  return { ok: counts.blockers === 0, counts, findings, estimate, checkedAt: new Date().toISOString(), wroteNothing: true };
}
