/**
 * OData v4 query options for Graph-compatible collections (SPEC §10): parsing and validation of
 * $filter, $orderby, $top, $skipToken, $count and $select, in-memory evaluation, and a push-down
 * translation of $filter to Azure Table Storage filters.
 */
import { odata } from '@azure/data-tables';
import { invalid } from '../domain/errors';

export type FieldType = 'string' | 'dateTime' | 'enum' | 'guid' | 'duration' | 'boolean';

export interface FieldSpec<T> {
  /** OData property path as clients write it, e.g. 'status', 'customer/tenantId'. */
  path: string;
  type: FieldType;
  /** Value of the field on an entity; dateTime values are UTC ISO 8601 with 7 fractional digits, booleans 'true'/'false'. */
  get(entity: T): string | null;
  /** For 'enum': a literal must be one of these. */
  enumValues?: readonly string[];
  /** Compare case-insensitively (e.g. displayName). Such fields are never pushed down to storage. */
  caseInsensitive?: boolean;
  /** Table Storage column holding exactly get(entity) (same format, case-sensitive); enables push-down. */
  storageColumn?: string;
  /** May appear in $orderby (default true). */
  sortable?: boolean;
  /** Maps a valid literal to the stored spelling of the same value (e.g. P0D → PT0S). */
  normalize?: (value: string) => string;
}

export interface CollectionSpec<T> {
  fields: readonly FieldSpec<T>[];
  /** Top-level property names allowed in $select. */
  selectable: readonly string[];
  /** Largest accepted $top (default 300). */
  maxTop?: number;
  /** Page size when $top is absent (default 100). */
  defaultTop?: number;
}

export type FilterNode =
  | { kind: 'and' | 'or'; left: FilterNode; right: FilterNode }
  | { kind: 'not'; operand: FilterNode }
  | { kind: 'compare'; op: 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le'; path: string; value: string | null };

export interface OrderBy {
  path: string;
  descending: boolean;
}

export interface CollectionQuery {
  filter?: FilterNode;
  orderBy: OrderBy[];
  top: number;
  skipToken?: string;
  count: boolean;
  select?: string[];
}

type CompareOp = Extract<FilterNode, { kind: 'compare' }>['op'];
type CompareNode = Extract<FilterNode, { kind: 'compare' }>;

const DEFAULT_MAX_TOP = 300;
const DEFAULT_TOP = 100;
const MAX_FILTER_LENGTH = 2000;
// Bounds recursion in the parser so a hostile $filter cannot exhaust the stack.
const MAX_FILTER_DEPTH = 32;
const MAX_ORDERBY_KEYS = 4;

const COMPARE_OPS: readonly CompareOp[] = ['eq', 'ne', 'gt', 'ge', 'lt', 'le'];
const KEYWORDS: readonly string[] = [...COMPARE_OPS, 'and', 'or', 'not', 'null'];

const SUPPORTED_OPTIONS = ['$filter', '$orderby', '$top', '$skipToken', '$count', '$select'] as const;
type OptionName = (typeof SUPPORTED_OPTIONS)[number];
const OPTIONS_BY_LOWER_NAME = new Map<string, OptionName>(SUPPORTED_OPTIONS.map((name) => [name.toLowerCase(), name]));

const GUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
// Edm.Duration: days and time only (years/months have no fixed length).
const DURATION_RE = /^-?P(?=\d|T\d)(?:\d+D)?(?:T(?=\d)(?:\d+H)?(?:\d+M)?(?:\d+(?:\.\d+)?S)?)?$/i;
// Seconds are optional in OData dateTimeOffset; more than 7 fractional digits would need rounding, so reject.
const DATE_TIME_RE =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?(?:Z|([+-])(\d{2}):(\d{2}))$/;
// Storage column names are concatenated into table filters, so they must be plain identifiers.
const STORAGE_COLUMN_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

// ---------------------------------------------------------------------------------------------
// Query option parsing
// ---------------------------------------------------------------------------------------------

/**
 * Validates the OData query options of a collection request. Only `$`-prefixed names are options
 * (matched case-insensitively); other parameters are route values and are ignored.
 */
export function parseCollectionQuery<T>(query: URLSearchParams, spec: CollectionSpec<T>): CollectionQuery {
  const options = new Map<OptionName, string>();
  for (const [name, value] of query) {
    if (!name.startsWith('$')) continue;
    const option = OPTIONS_BY_LOWER_NAME.get(name.toLowerCase());
    if (!option) {
      throw invalid(`Query option '${clip(name)}' is not supported. Supported: ${SUPPORTED_OPTIONS.join(', ')}.`);
    }
    if (options.has(option)) throw invalid(`Query option '${option}' must not be specified more than once.`);
    options.set(option, value);
  }

  const result: CollectionQuery = { orderBy: [], top: parseTop(options.get('$top'), spec), count: false };
  const filter = options.get('$filter');
  if (filter !== undefined) result.filter = parseFilter(filter, spec);
  const orderBy = options.get('$orderby');
  if (orderBy !== undefined) result.orderBy = parseOrderBy(orderBy, spec);
  const skipToken = options.get('$skipToken');
  if (skipToken !== undefined) {
    if (skipToken === '') throw invalid('Invalid $skipToken: must not be empty.');
    result.skipToken = skipToken;
  }
  const count = options.get('$count');
  if (count !== undefined) result.count = parseCount(count);
  const select = options.get('$select');
  if (select !== undefined) result.select = parseSelect(select, spec);
  return result;
}

/** Query options of a single-entity read: Graph accepts only $select there. */
export function parseEntityQuery<T>(query: URLSearchParams, spec: CollectionSpec<T>): { select?: string[] } {
  let select: string[] | undefined;
  for (const [name, value] of query) {
    if (!name.startsWith('$')) continue;
    if (name.toLowerCase() !== '$select') {
      throw invalid(`Query option '${clip(name)}' is not supported on a single entity. Supported: $select.`);
    }
    if (select) throw invalid(`Query option '$select' must not be specified more than once.`);
    select = parseSelect(value, spec);
  }
  return { select };
}

function parseTop<T>(value: string | undefined, spec: CollectionSpec<T>): number {
  const maxTop = spec.maxTop ?? DEFAULT_MAX_TOP;
  if (value === undefined) return Math.min(spec.defaultTop ?? DEFAULT_TOP, maxTop);
  const top = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(top >= 1 && top <= maxTop)) {
    throw invalid(`Invalid $top: '${clip(value)}'. Must be an integer from 1 to ${maxTop} (the maximum page size).`);
  }
  return top;
}

function parseCount(value: string): boolean {
  const lower = value.toLowerCase();
  if (lower !== 'true' && lower !== 'false') throw invalid(`Invalid $count: '${clip(value)}'. Must be true or false.`);
  return lower === 'true';
}

function parseOrderBy<T>(value: string, spec: CollectionSpec<T>): OrderBy[] {
  const sortable = spec.fields.filter(isSortable).map((field) => field.path);
  const items = value.split(',').map((item) => item.trim());
  if (items.length > MAX_ORDERBY_KEYS) throw invalid(`Invalid $orderby: at most ${MAX_ORDERBY_KEYS} keys are allowed.`);

  const result: OrderBy[] = [];
  for (const item of items) {
    if (item === '') throw invalid('Invalid $orderby: empty sort key.');
    const [path, written, ...rest] = item.split(/\s+/);
    // Keywords are case-insensitive, as Graph accepts them (SPEC §14); property names are not.
    const direction = written?.toLowerCase();
    if (rest.length > 0 || (direction !== undefined && direction !== 'asc' && direction !== 'desc')) {
      throw invalid(`Invalid $orderby: '${clip(item)}'. Expected 'property', 'property asc' or 'property desc'.`);
    }
    if (!sortable.includes(path)) {
      throw invalid(
        `Invalid $orderby: property '${clip(path)}' is not supported for sorting. Supported: ${sortable.join(', ')}.`,
      );
    }
    if (result.some((key) => key.path === path)) {
      throw invalid(`Invalid $orderby: property '${path}' appears more than once.`);
    }
    result.push({ path, descending: direction === 'desc' });
  }
  return result;
}

function isSortable<T>(field: FieldSpec<T>): boolean {
  return field.sortable ?? true;
}

function parseSelect<T>(value: string, spec: CollectionSpec<T>): string[] {
  const result: string[] = [];
  for (const item of value.split(',').map((name) => name.trim())) {
    if (item === '') throw invalid('Invalid $select: empty property name.');
    if (!spec.selectable.includes(item)) {
      throw invalid(
        `Invalid $select: property '${clip(item)}' is not supported. Supported: ${spec.selectable.join(', ')}.`,
      );
    }
    // Graph tolerates repeats in $select; keep the first occurrence.
    if (!result.includes(item)) result.push(item);
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// $filter tokenizer
// ---------------------------------------------------------------------------------------------

type LiteralType = 'string' | 'guid' | 'dateTime' | 'duration' | 'boolean' | 'null';

type Token =
  | { kind: 'open' | 'close' | 'comma'; text: string; pos: number }
  /** Keyword or property path. */
  | { kind: 'word'; text: string; pos: number }
  /** `value` is the decoded literal (quotes removed, `''` unescaped). */
  | { kind: 'literal'; type: LiteralType; value: string; text: string; pos: number };

// Sticky patterns, tried at the current position.
const GUID_TOKEN_RE = /[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?![\w-])/y;
const BARE_LITERAL_RE = /\d[\w.:+-]*/y;
const PATH_RE = /[A-Za-z_]\w*(?:\/[A-Za-z_]\w*)*/y;
const DURATION_PREFIX = "duration'";

function filterError(message: string) {
  return invalid(`Invalid $filter: ${message}`);
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  while (pos < text.length) {
    const ch = text[pos];
    if (/\s/.test(ch)) {
      pos++;
    } else if (ch === '(' || ch === ')' || ch === ',') {
      // Commas only occur in function calls; tokenizing them lets the parser explain that.
      tokens.push({ kind: ch === '(' ? 'open' : ch === ')' ? 'close' : 'comma', text: ch, pos });
      pos++;
    } else if (ch === "'") {
      const { value, end } = readQuoted(text, pos);
      tokens.push({ kind: 'literal', type: 'string', value, text: text.slice(pos, end), pos });
      pos = end;
    } else if (text.startsWith(DURATION_PREFIX, pos)) {
      const { value, end } = readQuoted(text, pos + DURATION_PREFIX.length - 1);
      tokens.push({ kind: 'literal', type: 'duration', value, text: text.slice(pos, end), pos });
      pos = end;
    } else {
      const token =
        matchSticky(GUID_TOKEN_RE, text, pos, (match) => literalToken('guid', match, pos)) ??
        matchSticky(BARE_LITERAL_RE, text, pos, (match) => bareLiteralToken(match, pos)) ??
        matchSticky(PATH_RE, text, pos, (match) =>
          match.toLowerCase() === 'null'
            ? literalToken('null', match, pos)
            : match.toLowerCase() === 'true' || match.toLowerCase() === 'false'
              ? literalToken('boolean', match.toLowerCase(), pos)
              : { kind: 'word', text: match, pos },
        );
      if (!token) throw filterError(`unexpected character '${ch}' at position ${pos + 1}.`);
      tokens.push(token);
      pos += token.text.length;
    }
  }
  return tokens;
}

function matchSticky(re: RegExp, text: string, pos: number, toToken: (match: string) => Token): Token | undefined {
  re.lastIndex = pos;
  const match = re.exec(text);
  return match ? toToken(match[0]) : undefined;
}

function literalToken(type: LiteralType, text: string, pos: number): Token {
  return { kind: 'literal', type, value: text, text, pos };
}

/** Unquoted literals starting with a digit: only dateTimeOffset values are supported (no numbers). */
function bareLiteralToken(text: string, pos: number): Token {
  if (/^\d{4}-\d{2}-\d{2}T/.test(text)) return literalToken('dateTime', text, pos);
  throw filterError(
    `unsupported literal '${clip(text)}' at position ${pos + 1}; string values must be in single quotes.`,
  );
}

/** Reads a single-quoted literal starting at `start` (the opening quote); `''` is an escaped quote. */
function readQuoted(text: string, start: number): { value: string; end: number } {
  let value = '';
  let pos = start + 1;
  for (;;) {
    const quote = text.indexOf("'", pos);
    if (quote < 0) throw filterError(`unterminated string literal starting at position ${start + 1}.`);
    value += text.slice(pos, quote);
    if (text[quote + 1] !== "'") return { value, end: quote + 1 };
    value += "'";
    pos = quote + 2;
  }
}

// ---------------------------------------------------------------------------------------------
// $filter parser: recursive descent, OData precedence not > comparison > and > or
// ---------------------------------------------------------------------------------------------

function parseFilter<T>(text: string, spec: CollectionSpec<T>): FilterNode {
  if (text.length > MAX_FILTER_LENGTH) throw filterError(`must not be longer than ${MAX_FILTER_LENGTH} characters.`);
  const tokens = tokenize(text);
  if (tokens.length === 0) throw filterError('must not be empty.');
  return new FilterParser(tokens, spec).parse();
}

class FilterParser<T> {
  private index = 0;

  constructor(
    private readonly tokens: readonly Token[],
    private readonly spec: CollectionSpec<T>,
  ) {}

  parse(): FilterNode {
    const node = this.parseOr(0);
    const extra = this.peek();
    if (extra) throw this.unexpected(extra, 'expected and, or, or the end of the expression');
    return node;
  }

  private parseOr(depth: number): FilterNode {
    let node = this.parseAnd(depth);
    while (this.acceptWord('or')) node = { kind: 'or', left: node, right: this.parseAnd(depth) };
    return node;
  }

  private parseAnd(depth: number): FilterNode {
    let node = this.parseUnary(depth);
    while (this.acceptWord('and')) node = { kind: 'and', left: node, right: this.parseUnary(depth) };
    return node;
  }

  private parseUnary(depth: number): FilterNode {
    if (depth > MAX_FILTER_DEPTH) throw filterError(`expression is nested more than ${MAX_FILTER_DEPTH} levels deep.`);
    if (this.acceptWord('not')) {
      // `not` binds tighter than comparisons, so `not status eq 'x'` would negate a non-boolean property.
      const next = this.peek();
      if (!next || !(next.kind === 'open' || isWord(next, 'not'))) {
        throw filterError("'not' must be followed by a parenthesized expression, e.g. not (status eq 'active').");
      }
      return { kind: 'not', operand: this.parseUnary(depth + 1) };
    }
    if (this.peek()?.kind === 'open') {
      const open = this.next();
      const node = this.parseOr(depth + 1);
      const close = this.peek();
      if (close?.kind !== 'close') {
        throw close
          ? this.unexpected(close, `expected ')' to close '(' at position ${open.pos + 1}`)
          : filterError(`missing ')' to close '(' at position ${open.pos + 1}.`);
      }
      this.next();
      return node;
    }
    return this.parseComparison();
  }

  private parseComparison(): CompareNode {
    const left = this.peek();
    if (!left) throw filterError('unexpected end of expression; expected a property name.');
    if (left.kind === 'literal') {
      throw filterError(`the property must be on the left side of a comparison, e.g. status eq 'active'.`);
    }
    if (left.kind !== 'word' || KEYWORDS.includes(left.text.toLowerCase())) {
      throw this.unexpected(left, 'expected a property name');
    }
    this.next();
    if (this.peek()?.kind === 'open') throw filterError(`functions such as '${clip(left.text)}' are not supported.`);
    const field = this.field(left.text);

    const opToken = this.peek();
    if (!opToken) throw filterError(`expected a comparison operator after '${clip(left.text)}'.`);
    const op = COMPARE_OPS.find((candidate) => isWord(opToken, candidate));
    if (!op) throw this.unexpected(opToken, `expected one of ${COMPARE_OPS.join(', ')} after '${clip(left.text)}'`);
    this.next();

    const right = this.peek();
    if (!right) throw filterError(`expected a value after '${op}'.`);
    if (right.kind !== 'literal') {
      if (right.kind === 'word' && this.spec.fields.some((candidate) => candidate.path === right.text)) {
        throw filterError(`comparing property '${field.path}' to another property is not supported.`);
      }
      throw this.unexpected(right, `expected a value after '${op}' (string values must be in single quotes)`);
    }
    this.next();

    if ((field.type === 'duration' || field.type === 'boolean') && op !== 'eq' && op !== 'ne') {
      throw filterError(`operator '${op}' is not supported for property '${field.path}'; use eq or ne.`);
    }
    const value = coerceLiteral(field, right);
    return {
      kind: 'compare',
      op,
      path: field.path,
      value: value === null || !field.normalize ? value : field.normalize(value),
    };
  }

  private field(path: string): FieldSpec<T> {
    const field = this.spec.fields.find((candidate) => candidate.path === path);
    if (!field) {
      const supported = this.spec.fields.map((candidate) => candidate.path).join(', ');
      throw filterError(`property '${clip(path)}' is not supported. Supported: ${supported}.`);
    }
    return field;
  }

  private peek(): Token | undefined {
    return this.tokens[this.index];
  }

  private next(): Token {
    return this.tokens[this.index++];
  }

  private acceptWord(word: string): boolean {
    const token = this.peek();
    if (!token || !isWord(token, word)) return false;
    this.index++;
    return true;
  }

  private unexpected(token: Token, expectation: string) {
    return filterError(`unexpected '${clip(token.text)}' at position ${token.pos + 1}; ${expectation}.`);
  }
}

/** Keywords (`and`, `Or`, `EQ`, ...) match in any case, as Graph accepts them (SPEC §14). */
function isWord(token: Token, word: string): boolean {
  return token.kind === 'word' && token.text.toLowerCase() === word;
}

const LITERAL_DESCRIPTIONS: Record<LiteralType, string> = {
  string: 'string',
  guid: 'GUID',
  dateTime: 'dateTimeOffset',
  duration: 'duration',
  boolean: 'boolean',
  null: 'null',
};

/** Checks a literal against the field's type and returns the canonical value to compare with. */
function coerceLiteral<T>(field: FieldSpec<T>, token: Extract<Token, { kind: 'literal' }>): string | null {
  if (token.type === 'null') return null;
  const { value } = token;
  const mismatch = () =>
    filterError(
      `a ${LITERAL_DESCRIPTIONS[token.type]} value cannot be compared with ${field.type} property '${field.path}'.`,
    );
  const invalid = (expected: string) =>
    filterError(`'${clip(value)}' is not a valid ${expected} value for property '${field.path}'.`);

  switch (field.type) {
    case 'string':
      // Unquoted GUIDs are plain string values for string properties.
      if (token.type !== 'string' && token.type !== 'guid') throw mismatch();
      return value;
    case 'enum':
      if (token.type !== 'string') throw mismatch();
      if (field.enumValues && !field.enumValues.includes(value)) {
        throw filterError(
          `'${clip(value)}' is not a valid value for property '${field.path}'. Supported: ${field.enumValues.join(', ')}.`,
        );
      }
      return value;
    case 'guid':
      if (token.type !== 'string' && token.type !== 'guid') throw mismatch();
      if (!GUID_RE.test(value)) throw invalid('GUID');
      // Stored GUIDs are lowercase; normalising lets clients use either case.
      return value.toLowerCase();
    case 'dateTime': {
      if (token.type !== 'string' && token.type !== 'dateTime') throw mismatch();
      const normalized = normalizeDateTime(value);
      if (normalized === undefined) throw invalid('dateTimeOffset (e.g. 2026-01-01T00:00:00Z)');
      return normalized;
    }
    case 'boolean':
      if (token.type !== 'boolean') throw mismatch();
      return value;
    case 'duration':
      if (token.type !== 'string' && token.type !== 'duration') throw mismatch();
      if (!DURATION_RE.test(value)) throw invalid('ISO 8601 duration (e.g. P180D)');
      return value.toUpperCase();
  }
}

/**
 * Converts an OData dateTimeOffset to the stored form: UTC with exactly 7 fractional digits, so that
 * lexicographic comparison equals chronological comparison. Returns undefined when invalid.
 */
function normalizeDateTime(text: string): string | undefined {
  const match = DATE_TIME_RE.exec(text);
  if (!match) return undefined;
  const [
    ,
    yearText,
    monthText,
    dayText,
    hourText,
    minuteText,
    secondText,
    fraction,
    sign,
    offsetHourText,
    offsetMinuteText,
  ] = match;
  const [year, month, day, hour, minute, second] = [yearText, monthText, dayText, hourText, minuteText, secondText].map(
    (part) => Number(part ?? '0'),
  );
  const offsetHours = Number(offsetHourText ?? '0');
  const offsetMinutes = Number(offsetMinuteText ?? '0');
  if (
    year < 1 ||
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > daysInMonth(year, month) ||
    hour > 23 ||
    minute > 59 ||
    second > 59 ||
    offsetHours > 14 ||
    offsetMinutes > 59
  ) {
    return undefined;
  }

  // setUTCFullYear avoids Date.UTC's mapping of years 0-99 to 1900-1999.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  const offset = (sign === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutes);
  date.setUTCHours(hour, minute - offset, second, 0);
  const utcYear = date.getUTCFullYear();
  if (utcYear < 1 || utcYear > 9999) return undefined;
  // Offsets are whole minutes, so the fractional seconds carry over unchanged.
  return `${date.toISOString().slice(0, 19)}.${(fraction ?? '').padEnd(7, '0')}Z`;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

// ---------------------------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------------------------

/** Evaluates a parsed filter against an entity with OData null semantics. No filter matches everything. */
export function matchesFilter<T>(filter: FilterNode | undefined, entity: T, spec: CollectionSpec<T>): boolean {
  if (!filter) return true;
  switch (filter.kind) {
    case 'and':
      return matchesFilter(filter.left, entity, spec) && matchesFilter(filter.right, entity, spec);
    case 'or':
      return matchesFilter(filter.left, entity, spec) || matchesFilter(filter.right, entity, spec);
    case 'not':
      return !matchesFilter(filter.operand, entity, spec);
    case 'compare':
      return matchesComparison(filter, entity, spec);
  }
}

function matchesComparison<T>(node: CompareNode, entity: T, spec: CollectionSpec<T>): boolean {
  const field = requireField(spec, node.path);
  const actual = comparable(field, field.get(entity));
  const expected = comparable(field, node.value);
  if (node.op === 'eq') return actual === expected;
  if (node.op === 'ne') return actual !== expected;
  // Ordering comparisons involving null are false in OData.
  if (actual === null || expected === null) return false;
  const order = compareStrings(actual, expected);
  switch (node.op) {
    case 'gt':
      return order > 0;
    case 'ge':
      return order >= 0;
    case 'lt':
      return order < 0;
    case 'le':
      return order <= 0;
  }
}

/**
 * Orders entities by the given keys: nulls first ascending (last descending), ties return 0 so a
 * stable sort keeps the incoming order.
 */
export function compareEntities<T>(a: T, b: T, orderBy: readonly OrderBy[], spec: CollectionSpec<T>): number {
  for (const key of orderBy) {
    const field = requireField(spec, key.path);
    const left = comparable(field, field.get(a));
    const right = comparable(field, field.get(b));
    let order: number;
    if (left === right) order = 0;
    else if (left === null) order = -1;
    else if (right === null) order = 1;
    else order = compareStrings(left, right);
    if (order !== 0) return key.descending ? -order : order;
  }
  return 0;
}

function comparable<T>(field: FieldSpec<T>, value: string | null): string | null {
  return value !== null && field.caseInsensitive ? value.toLowerCase() : value;
}

// Ordinal comparison (not localeCompare) so results match Table Storage and do not depend on the host locale.
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function requireField<T>(spec: CollectionSpec<T>, path: string): FieldSpec<T> {
  const field = spec.fields.find((candidate) => candidate.path === path);
  // Paths come from parseCollectionQuery, so a miss is a programming error rather than a client error.
  if (!field) throw new Error(`OData field '${path}' is not defined in the collection spec.`);
  return field;
}

// ---------------------------------------------------------------------------------------------
// Table Storage push-down
// ---------------------------------------------------------------------------------------------

// One template per operator: the `odata` tag quotes and escapes the value, never client-built text.
const TABLE_COMPARISONS: Record<Exclude<CompareOp, 'ne'>, (value: string) => string> = {
  eq: (value) => odata`eq ${value}`,
  gt: (value) => odata`gt ${value}`,
  ge: (value) => odata`ge ${value}`,
  lt: (value) => odata`lt ${value}`,
  le: (value) => odata`le ${value}`,
};

/**
 * Translates the pushable part of a filter into a Table Storage filter that every matching entity
 * satisfies (it may match more), so callers must still apply matchesFilter to the results.
 * Returns undefined when nothing can be pushed down.
 */
export function toTableFilter<T>(filter: FilterNode | undefined, spec: CollectionSpec<T>): string | undefined {
  if (!filter) return undefined;
  switch (filter.kind) {
    case 'and': {
      // Dropping one side of a conjunction only weakens it.
      const left = toTableFilter(filter.left, spec);
      const right = toTableFilter(filter.right, spec);
      if (left !== undefined && right !== undefined) return `(${left}) and (${right})`;
      return left ?? right;
    }
    case 'or': {
      const left = toTableFilter(filter.left, spec);
      const right = toTableFilter(filter.right, spec);
      return left !== undefined && right !== undefined ? `(${left}) or (${right})` : undefined;
    }
    case 'not':
      // Negating a weakened filter would strengthen it, so give up.
      return undefined;
    case 'compare':
      return comparisonToTableFilter(filter, spec);
  }
}

function comparisonToTableFilter<T>(node: CompareNode, spec: CollectionSpec<T>): string | undefined {
  const field = requireField(spec, node.path);
  const column = field.storageColumn;
  // Table Storage has no nulls (absent properties), and a comparison with an absent property is false
  // there while `null ne 'x'` is true in OData, so null literals and `ne` are not pushed down.
  if (column === undefined || field.caseInsensitive || node.value === null || node.op === 'ne') return undefined;
  if (!STORAGE_COLUMN_RE.test(column)) throw new Error(`Invalid storage column name '${column}' for '${field.path}'.`);
  return `${column} ${TABLE_COMPARISONS[node.op](node.value)}`;
}

// ---------------------------------------------------------------------------------------------
// $select
// ---------------------------------------------------------------------------------------------

/**
 * Projects an entity to the selected properties, always keeping `id` and `@odata.*` annotations and
 * preserving the original key order. Without $select the entity is returned as is.
 */
export function applySelect(
  entity: Record<string, unknown>,
  select: readonly string[] | undefined,
): Record<string, unknown> {
  if (!select) return entity;
  const selected = new Set(select);
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(entity)) {
    if (key === 'id' || key.startsWith('@odata.') || selected.has(key)) result[key] = value;
  }
  return result;
}

/** Shortens client text echoed in error messages. */
function clip(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
