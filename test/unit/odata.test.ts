import { DomainError } from '../../shared/domain/errors';
import {
  applySelect,
  CollectionQuery,
  CollectionSpec,
  compareEntities,
  FilterNode,
  matchesFilter,
  parseCollectionQuery,
  toTableFilter,
} from '../../shared/query/odata';

interface Fake {
  status: string;
  displayName: string | null;
  customerTenantId: string | null;
  createdDateTime: string;
  endDateTime: string | null;
  autoExtendDuration: string | null;
  notes?: string | null;
}

const TENANT_A = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
const TENANT_B = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';

const spec: CollectionSpec<Fake> = {
  fields: [
    {
      path: 'status',
      type: 'enum',
      enumValues: ['approvalPending', 'active', 'terminated'],
      storageColumn: 'status',
      get: (e) => e.status,
    },
    { path: 'displayName', type: 'string', caseInsensitive: true, get: (e) => e.displayName },
    { path: 'customer/tenantId', type: 'guid', storageColumn: 'customerTenantId', get: (e) => e.customerTenantId },
    { path: 'createdDateTime', type: 'dateTime', storageColumn: 'createdDateTime', get: (e) => e.createdDateTime },
    { path: 'endDateTime', type: 'dateTime', get: (e) => e.endDateTime },
    {
      path: 'autoExtendDuration',
      type: 'duration',
      storageColumn: 'autoExtendDuration',
      sortable: false,
      get: (e) => e.autoExtendDuration,
    },
  ],
  selectable: ['id', 'displayName', 'status', 'customer', 'createdDateTime', 'endDateTime', 'autoExtendDuration'],
};

// A case-sensitive free-text column, to check how arbitrary client text is escaped for storage.
const notesSpec: CollectionSpec<Fake> = {
  ...spec,
  fields: [...spec.fields, { path: 'notes', type: 'string', storageColumn: 'notes', get: (e) => e.notes ?? null }],
};

function fake(overrides: Partial<Fake> = {}): Fake {
  return {
    status: 'active',
    displayName: 'Contoso Support',
    customerTenantId: TENANT_A,
    createdDateTime: '2026-01-01T00:00:00.0000000Z',
    endDateTime: '2026-07-01T00:00:00.0000000Z',
    autoExtendDuration: 'P180D',
    ...overrides,
  };
}

function parse(query: string | Record<string, string>, collection: CollectionSpec<Fake> = spec): CollectionQuery {
  return parseCollectionQuery(new URLSearchParams(query), collection);
}

function filterOf(filter: string, collection: CollectionSpec<Fake> = spec): FilterNode {
  const { filter: node } = parse({ $filter: filter }, collection);
  if (!node) throw new Error('expected a filter');
  return node;
}

function matches(filter: string, entity: Fake, collection: CollectionSpec<Fake> = spec): boolean {
  return matchesFilter(filterOf(filter, collection), entity, collection);
}

function tableFilter(filter: string, collection: CollectionSpec<Fake> = spec): string | undefined {
  return toTableFilter(filterOf(filter, collection), collection);
}

/** Asserts a 400 whose message contains every fragment. */
function expectBadRequest(action: () => unknown, ...fragments: string[]): void {
  let error: unknown;
  try {
    action();
  } catch (caught) {
    error = caught;
  }
  expect(error).toBeInstanceOf(DomainError);
  const refusal = error as DomainError;
  expect(refusal.kind).toBe('invalid');
  for (const fragment of fragments) expect(refusal.message).toContain(fragment);
}

const eq = (path: string, value: string | null): FilterNode => ({ kind: 'compare', op: 'eq', path, value });

describe('parseCollectionQuery options', () => {
  it('returns defaults when no options are given and ignores route parameters', () => {
    expect(parse('customerTenantId=abc&api-version=1')).toEqual({ orderBy: [], top: 100, count: false });
  });

  it('parses every supported option', () => {
    const query = parse(
      "$filter=status eq 'active'&$orderby=createdDateTime desc&$top=5&$skipToken=opaque%2Btoken&$count=true&$select=displayName",
    );
    expect(query).toEqual({
      filter: eq('status', 'active'),
      orderBy: [{ path: 'createdDateTime', descending: true }],
      top: 5,
      skipToken: 'opaque+token',
      count: true,
      select: ['displayName'],
    });
  });

  it('matches option names case-insensitively', () => {
    expect(parse('$TOP=7&$SkipToken=x&$COUNT=TRUE')).toMatchObject({ top: 7, skipToken: 'x', count: true });
  });

  it.each(['$expand=customer', '$search=x', '$skip=10', '$format=json', '$=1', '$apply=x'])('rejects %s', (query) => {
    expectBadRequest(() => parse(query), 'is not supported', '$filter, $orderby, $top, $skipToken, $count, $select');
  });

  it('rejects duplicate options, including case variants', () => {
    expectBadRequest(() => parse('$top=1&$top=2'), "'$top' must not be specified more than once");
    expectBadRequest(() => parse('$filter=x&$FILTER=y'), "'$filter' must not be specified more than once");
  });

  describe('$top', () => {
    it('accepts 1..maxTop', () => {
      expect(parse('$top=1').top).toBe(1);
      expect(parse('$top=300').top).toBe(300);
      expect(parse('$top=007').top).toBe(7);
    });

    it.each(['0', '-1', '301', '1.5', '1e2', 'abc', '', ' 5', '+5', '99999999999999999999'])('rejects %p', (value) => {
      expectBadRequest(() => parse({ $top: value }), 'Invalid $top', '300');
    });

    it('honours custom maxTop and defaultTop', () => {
      const small = { ...spec, maxTop: 10, defaultTop: 3 };
      expect(parse('', small).top).toBe(3);
      expectBadRequest(() => parse('$top=11', small), 'from 1 to 10');
    });
  });

  describe('$count', () => {
    it('accepts true and false in any case', () => {
      expect(parse('$count=true').count).toBe(true);
      expect(parse('$count=False').count).toBe(false);
    });

    it.each(['1', 'yes', '', 'truee'])('rejects %p', (value) => {
      expectBadRequest(() => parse({ $count: value }), 'Invalid $count');
    });
  });

  describe('$skipToken', () => {
    it('passes the token through untouched', () => {
      const token = "eyJ4IjoxfQ==' or 1 eq 1";
      expect(parse({ $skipToken: token }).skipToken).toBe(token);
    });

    it('rejects an empty token', () => {
      expectBadRequest(() => parse('$skipToken='), 'Invalid $skipToken');
    });
  });

  describe('$orderby', () => {
    it('parses several keys with optional directions', () => {
      expect(parse({ $orderby: 'status,  createdDateTime desc , displayName asc' }).orderBy).toEqual([
        { path: 'status', descending: false },
        { path: 'createdDateTime', descending: true },
        { path: 'displayName', descending: false },
      ]);
    });

    it('rejects unknown or unsortable properties, listing the sortable ones', () => {
      expectBadRequest(
        () => parse({ $orderby: 'foo' }),
        "property 'foo'",
        'Supported: status, displayName, customer/tenantId, createdDateTime, endDateTime.',
      );
      expectBadRequest(() => parse({ $orderby: 'autoExtendDuration' }), "property 'autoExtendDuration'");
    });

    it.each(['status descending', 'status asc desc', 'status,', ',status', ''])('rejects %p', (value) => {
      expectBadRequest(() => parse({ $orderby: value }), 'Invalid $orderby');
    });

    it('rejects duplicates and more than four keys', () => {
      expectBadRequest(() => parse({ $orderby: 'status,status desc' }), "'status' appears more than once");
      expectBadRequest(
        () => parse({ $orderby: 'status,displayName,createdDateTime,endDateTime,customer/tenantId' }),
        'at most 4 keys',
      );
    });
  });

  describe('$select', () => {
    it('returns the selected names, trimmed and de-duplicated', () => {
      expect(parse({ $select: 'displayName, status,displayName' }).select).toEqual(['displayName', 'status']);
    });

    it('rejects unknown names case-sensitively', () => {
      expectBadRequest(() => parse({ $select: 'displayname' }), "property 'displayname'", 'Supported: id, displayName');
      expectBadRequest(() => parse({ $select: 'customer/tenantId' }), "property 'customer/tenantId'");
      expectBadRequest(() => parse({ $select: '*' }), "property '*'");
    });

    it('rejects empty names', () => {
      expectBadRequest(() => parse({ $select: '' }), 'Invalid $select');
      expectBadRequest(() => parse({ $select: 'status,,id' }), 'Invalid $select');
    });
  });
});

describe('$filter parsing', () => {
  it.each(['eq', 'ne', 'gt', 'ge', 'lt', 'le'] as const)('parses the %s operator', (op) => {
    expect(filterOf(`createdDateTime ${op} 2026-01-01T00:00:00Z`)).toEqual({
      kind: 'compare',
      op,
      path: 'createdDateTime',
      value: '2026-01-01T00:00:00.0000000Z',
    });
  });

  it('gives and precedence over or', () => {
    expect(filterOf("status eq 'active' or status eq 'terminated' and displayName eq 'a'")).toEqual({
      kind: 'or',
      left: eq('status', 'active'),
      right: { kind: 'and', left: eq('status', 'terminated'), right: eq('displayName', 'a') },
    });
  });

  it('reads keywords in any case, as Graph does (CIPP writes AND), but not property names', () => {
    expect(filterOf("(status EQ 'active') AND (displayName Eq 'a' Or NOT (endDateTime ne NULL))")).toEqual({
      kind: 'and',
      left: eq('status', 'active'),
      right: {
        kind: 'or',
        left: eq('displayName', 'a'),
        right: { kind: 'not', operand: { kind: 'compare', op: 'ne', path: 'endDateTime', value: null } },
      },
    });
    expectBadRequest(() => filterOf("STATUS eq 'active'"), "property 'STATUS'");
    expect(parse({ $orderby: 'status DESC, displayName Asc' }).orderBy).toEqual([
      { path: 'status', descending: true },
      { path: 'displayName', descending: false },
    ]);
  });

  it('honours parentheses', () => {
    expect(filterOf("(status eq 'active' or status eq 'terminated') and displayName eq 'a'")).toEqual({
      kind: 'and',
      left: { kind: 'or', left: eq('status', 'active'), right: eq('status', 'terminated') },
      right: eq('displayName', 'a'),
    });
  });

  it('is left-associative', () => {
    expect(filterOf("status eq 'active' and displayName eq 'a' and displayName eq 'b'")).toEqual({
      kind: 'and',
      left: { kind: 'and', left: eq('status', 'active'), right: eq('displayName', 'a') },
      right: eq('displayName', 'b'),
    });
  });

  it('parses not with a parenthesized operand and binds it tighter than and', () => {
    expect(filterOf("not (status eq 'active') and not not (displayName eq 'a')")).toEqual({
      kind: 'and',
      left: { kind: 'not', operand: eq('status', 'active') },
      right: { kind: 'not', operand: { kind: 'not', operand: eq('displayName', 'a') } },
    });
  });

  it('rejects not applied to a bare comparison', () => {
    expectBadRequest(() => filterOf("not status eq 'active'"), "'not' must be followed by a parenthesized expression");
    expectBadRequest(() => filterOf('not'), "'not' must be followed");
  });

  it('unescapes doubled quotes in string literals', () => {
    expect(filterOf("displayName eq 'O''Brien'")).toEqual(eq('displayName', "O'Brien"));
    expect(filterOf("displayName eq ''''")).toEqual(eq('displayName', "'"));
    expect(filterOf("displayName eq ''")).toEqual(eq('displayName', ''));
  });

  it('takes already-decoded query values, so %27 in the raw query is a quote', () => {
    expect(parse('$filter=displayName%20eq%20%27O%27%27Brien%27').filter).toEqual(eq('displayName', "O'Brien"));
    // A literal "%27" that survives decoding is just text.
    expect(filterOf("displayName eq 'a%27b'")).toEqual(eq('displayName', 'a%27b'));
  });

  it('parses null literals', () => {
    expect(filterOf('endDateTime eq null')).toEqual(eq('endDateTime', null));
  });

  describe('GUID literals', () => {
    it('accepts quoted and unquoted GUIDs and lower-cases them', () => {
      expect(filterOf(`customer/tenantId eq ${TENANT_A}`)).toEqual(eq('customer/tenantId', TENANT_A));
      expect(filterOf(`customer/tenantId eq '${TENANT_B.toUpperCase()}'`)).toEqual(eq('customer/tenantId', TENANT_B));
      expect(filterOf(`customer/tenantId eq ${TENANT_B.toUpperCase()}`)).toEqual(eq('customer/tenantId', TENANT_B));
    });

    it('treats an unquoted GUID as a string value for string properties', () => {
      expect(filterOf(`displayName eq ${TENANT_A}`)).toEqual(eq('displayName', TENANT_A));
    });

    it('rejects malformed GUIDs', () => {
      expectBadRequest(() => filterOf("customer/tenantId eq 'not-a-guid'"), "'not-a-guid' is not a valid GUID");
      expectBadRequest(() => filterOf('customer/tenantId eq 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f'), 'Invalid $filter');
    });
  });

  describe('dateTimeOffset literals', () => {
    it.each([
      ['2026-01-01T00:00:00Z', '2026-01-01T00:00:00.0000000Z'],
      ['2026-01-01T00:00Z', '2026-01-01T00:00:00.0000000Z'],
      ['2026-01-01T10:20:30.5Z', '2026-01-01T10:20:30.5000000Z'],
      ['2026-01-01T10:20:30.1234567Z', '2026-01-01T10:20:30.1234567Z'],
      ['2026-01-01T01:30:00.25+02:00', '2025-12-31T23:30:00.2500000Z'],
      ['2026-12-31T23:00:00-01:30', '2027-01-01T00:30:00.0000000Z'],
      ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00.0000000Z'],
    ])('normalises unquoted and quoted %s', (literal, expected) => {
      expect(filterOf(`createdDateTime ge ${literal}`)).toEqual({
        kind: 'compare',
        op: 'ge',
        path: 'createdDateTime',
        value: expected,
      });
      expect(filterOf(`createdDateTime ge '${literal}'`)).toMatchObject({ value: expected });
    });

    it.each([
      '2026-13-01T00:00:00Z',
      '2026-02-29T00:00:00Z',
      '2026-01-01T24:00:00Z',
      '2026-01-01T00:60:00Z',
      '2026-01-01T00:00:00',
      '2026-01-01T00:00:00.12345678Z',
      '2026-01-01T00:00:00+15:00',
      '0000-01-01T00:00:00Z',
      '2026-01-01Tfoo',
    ])('rejects %s', (literal) => {
      expectBadRequest(
        () => filterOf(`createdDateTime ge '${literal}'`),
        'not a valid dateTimeOffset',
        'createdDateTime',
      );
    });

    it('rejects date-only and numeric unquoted literals', () => {
      expectBadRequest(() => filterOf('createdDateTime ge 2026-01-01'), "unsupported literal '2026-01-01'");
      expectBadRequest(() => filterOf('createdDateTime ge 5'), "unsupported literal '5'");
    });
  });

  describe('duration literals', () => {
    it('accepts quoted and duration-prefixed values, upper-cased', () => {
      expect(filterOf("autoExtendDuration eq 'P180D'")).toEqual(eq('autoExtendDuration', 'P180D'));
      expect(filterOf("autoExtendDuration eq duration'p180d'")).toEqual(eq('autoExtendDuration', 'P180D'));
      expect(filterOf("autoExtendDuration ne 'PT0S'")).toMatchObject({ op: 'ne', value: 'PT0S' });
    });

    it.each(["'180 days'", "'P'", "'PT'", "'P1Y'", "duration'P1DT'"])('rejects %s', (literal) => {
      expectBadRequest(() => filterOf(`autoExtendDuration eq ${literal}`), 'not a valid ISO 8601 duration');
    });

    it('rejects ordering operators, whose text order is not duration order', () => {
      expectBadRequest(() => filterOf("autoExtendDuration gt 'P90D'"), "operator 'gt' is not supported");
    });
  });

  it('rejects literals of the wrong type for the property', () => {
    expectBadRequest(() => filterOf('displayName eq 2026-01-01T00:00:00Z'), 'dateTimeOffset value cannot be compared');
    expectBadRequest(() => filterOf(`createdDateTime eq ${TENANT_A}`), 'GUID value cannot be compared');
    expectBadRequest(() => filterOf("status eq duration'P1D'"), 'duration value cannot be compared');
  });

  it('rejects enum values that are not listed', () => {
    expectBadRequest(
      () => filterOf("status eq 'Active'"),
      "'Active' is not a valid value for property 'status'",
      'Supported: approvalPending, active, terminated.',
    );
  });

  it('rejects unknown properties, naming them and listing the supported ones', () => {
    expectBadRequest(
      () => filterOf("foo eq 'x'"),
      "property 'foo' is not supported",
      'Supported: status, displayName, customer/tenantId, createdDateTime, endDateTime, autoExtendDuration.',
    );
    expectBadRequest(() => filterOf("Status eq 'active'"), "property 'Status'");
  });

  it.each([
    ['empty', '', 'must not be empty'],
    ['blank', '   ', 'must not be empty'],
    ['trailing garbage', "status eq 'active' status", "unexpected 'status'"],
    ['missing operator', 'status', 'expected a comparison operator'],
    ['missing value', 'status eq', "expected a value after 'eq'"],
    ['unquoted string', 'status eq active', "unexpected 'active'"],
    ['unsupported operator', "status has 'active'", "unexpected 'has'"],
    ['literal on the left', "'active' eq status", 'property must be on the left'],
    ['null on the left', 'null eq endDateTime', 'property must be on the left'],
    ['property compared to property', 'createdDateTime eq endDateTime', 'to another property is not supported'],
    ['unterminated string', "status eq 'active", 'unterminated string literal'],
    ['unbalanced open', "(status eq 'active'", "missing ')'"],
    ['unbalanced close', "status eq 'active')", "unexpected ')'"],
    ['empty parentheses', '()', "unexpected ')'"],
    ['dangling and', "status eq 'active' and", 'unexpected end of expression'],
    ['function call', "startswith(displayName, 'a')", "functions such as 'startswith' are not supported"],
    ['comma', "status eq 'active', 'terminated'", "unexpected ','"],
    ['bad character', "status eq 'active' && 1", "unexpected character '&'"],
    ['boolean literal on a string property', 'displayName eq true', 'a boolean value cannot be compared'],
    ['numeric comparison', '1 eq 1', "unsupported literal '1'"],
  ])('rejects %s', (_name, filter, message) => {
    expectBadRequest(() => filterOf(filter), 'Invalid $filter', message);
  });

  it.each([
    [
      'an unknown storage column',
      "status eq 'active' or PartitionKey ne ''",
      "property 'PartitionKey' is not supported",
    ],
    ['a parenthesis break-out', "status eq 'x') or (1 eq 1", "unsupported literal '1'"],
    ['a closing parenthesis', "status eq 'active') or (status eq 'active'", "unexpected ')'"],
    ['a quote break-out', "displayName eq 'x' or 'a' eq 'a'", 'property must be on the left'],
    ['RowKey tampering', "displayName eq 'x' or RowKey gt ''", "property 'RowKey' is not supported"],
  ])('rejects injection via %s', (_name, filter, message) => {
    expectBadRequest(() => filterOf(filter), message);
  });

  it('limits length and nesting depth', () => {
    const clause = "displayName eq 'a'";
    expectBadRequest(() => filterOf(`displayName eq '${'x'.repeat(2000)}'`), 'longer than 2000 characters');
    expect(filterOf(`displayName eq '${'x'.repeat(1980)}'`)).toEqual(eq('displayName', 'x'.repeat(1980)));
    expect(filterOf(`${'('.repeat(32)}${clause}${')'.repeat(32)}`)).toEqual(eq('displayName', 'a'));
    expectBadRequest(() => filterOf(`${'('.repeat(33)}${clause}${')'.repeat(33)}`), 'nested more than 32 levels');
    expectBadRequest(() => filterOf(`${'not '.repeat(33)}(${clause})`), 'nested more than 32 levels');
    expectBadRequest(() => filterOf('('.repeat(1999)), 'nested more than 32 levels');
  });

  it('handles long flat chains without deep recursion limits', () => {
    const filter = Array.from({ length: 90 }, () => "status eq 'active'").join(' or ');
    expect(matches(filter, fake())).toBe(true);
  });
});

describe('matchesFilter', () => {
  const entity = fake();

  it('matches everything without a filter', () => {
    expect(matchesFilter(undefined, entity, spec)).toBe(true);
  });

  it.each([
    ["status eq 'active'", true],
    ["status eq 'terminated'", false],
    ["status ne 'terminated'", true],
    ["status ne 'active'", false],
    ['createdDateTime gt 2025-12-31T23:59:59.9999999Z', true],
    ['createdDateTime gt 2026-01-01T00:00:00Z', false],
    ['createdDateTime ge 2026-01-01T00:00:00Z', true],
    ['createdDateTime ge 2026-01-01T01:00:00+02:00', true],
    ['createdDateTime lt 2026-01-01T00:00:00.0000001Z', true],
    ['createdDateTime lt 2026-01-01T00:00:00Z', false],
    ['createdDateTime le 2026-01-01T00:00:00Z', true],
    ['createdDateTime le 2025-12-31T00:00:00Z', false],
    ["status gt 'active' and status lt 'approvalPending'", false],
    ["status ge 'active' and status le 'active'", true],
    [`customer/tenantId eq ${TENANT_A.toUpperCase()}`, true],
    ["autoExtendDuration eq 'p180d'", true],
  ])('%s → %s', (filter, expected) => {
    expect(matches(filter, entity)).toBe(expected);
  });

  it('evaluates and, or, not and parentheses', () => {
    expect(matches("status eq 'terminated' or status eq 'active' and displayName eq 'contoso support'", entity)).toBe(
      true,
    );
    expect(matches("(status eq 'terminated' or status eq 'active') and displayName eq 'other'", entity)).toBe(false);
    expect(matches("not (status eq 'active')", entity)).toBe(false);
    expect(matches("not (status eq 'terminated') and not (displayName eq 'x')", entity)).toBe(true);
  });

  it('compares caseInsensitive fields without regard to case', () => {
    expect(matches("displayName eq 'CONTOSO support'", entity)).toBe(true);
    expect(matches("displayName ne 'contoso SUPPORT'", entity)).toBe(false);
    expect(matches("displayName gt 'CONTOSO'", entity)).toBe(true);
    expect(matches("displayName lt 'contoso'", entity)).toBe(false);
  });

  it('compares string values exactly, including quotes', () => {
    expect(matches("displayName eq 'O''Brien'", fake({ displayName: "O'Brien" }))).toBe(true);
    expect(matches("displayName eq 'OBrien'", fake({ displayName: "O'Brien" }))).toBe(false);
  });

  it('applies OData null semantics', () => {
    const open = fake({ endDateTime: null });
    expect(matches('endDateTime eq null', open)).toBe(true);
    expect(matches('endDateTime ne null', open)).toBe(false);
    expect(matches('endDateTime eq null', entity)).toBe(false);
    expect(matches('endDateTime ne null', entity)).toBe(true);
    expect(matches('endDateTime eq 2026-07-01T00:00:00Z', open)).toBe(false);
    expect(matches('endDateTime ne 2026-07-01T00:00:00Z', open)).toBe(true);
    // Ordering comparisons involving null are false, in both directions.
    expect(matches('endDateTime gt 2000-01-01T00:00:00Z', open)).toBe(false);
    expect(matches('endDateTime le 2999-01-01T00:00:00Z', open)).toBe(false);
    expect(matches('endDateTime ge null', entity)).toBe(false);
    expect(matches('endDateTime lt null', open)).toBe(false);
    expect(matches("displayName eq null and not (displayName eq 'x')", fake({ displayName: null }))).toBe(true);
  });
});

describe('toTableFilter', () => {
  it('returns undefined without a filter', () => {
    expect(toTableFilter(undefined, spec)).toBeUndefined();
  });

  it('pushes down comparisons on storage columns with quoted values', () => {
    expect(tableFilter("status eq 'active'")).toBe("status eq 'active'");
    expect(tableFilter(`customer/tenantId eq ${TENANT_A.toUpperCase()}`)).toBe(`customerTenantId eq '${TENANT_A}'`);
    expect(tableFilter('createdDateTime ge 2026-01-01T02:00:00+02:00')).toBe(
      "createdDateTime ge '2026-01-01T00:00:00.0000000Z'",
    );
    expect(tableFilter('createdDateTime gt 2026-01-01T00:00:00Z')).toBe(
      "createdDateTime gt '2026-01-01T00:00:00.0000000Z'",
    );
    expect(tableFilter('createdDateTime lt 2026-01-01T00:00:00Z')).toMatch(/^createdDateTime lt '/);
    expect(tableFilter('createdDateTime le 2026-01-01T00:00:00Z')).toMatch(/^createdDateTime le '/);
    expect(tableFilter("autoExtendDuration eq duration'p90d'")).toBe("autoExtendDuration eq 'P90D'");
  });

  it('escapes quotes in values exactly', () => {
    expect(tableFilter("notes eq 'O''Brien'", notesSpec)).toBe("notes eq 'O''Brien'");
    expect(tableFilter("notes eq 'x'' or PartitionKey ne '''", notesSpec)).toBe("notes eq 'x'' or PartitionKey ne '''");
    expect(tableFilter("notes eq 'a'') or (RowKey gt '''", notesSpec)).toBe("notes eq 'a'') or (RowKey gt '''");
    expect(toTableFilter(parse('$filter=notes%20eq%20%27%27%27%27', notesSpec).filter, notesSpec)).toBe(
      "notes eq ''''",
    );
    expect(tableFilter("notes eq '%27'", notesSpec)).toBe("notes eq '%27'");
  });

  it('does not push down fields without a storage column or compared case-insensitively', () => {
    expect(tableFilter('endDateTime lt 2026-01-01T00:00:00Z')).toBeUndefined();
    expect(tableFilter("displayName eq 'Contoso'")).toBeUndefined();
  });

  it('weakens null comparisons and ne, which behave differently for absent storage properties', () => {
    expect(tableFilter("status eq null or status eq 'active'")).toBeUndefined();
    expect(tableFilter('customer/tenantId ne null')).toBeUndefined();
    expect(tableFilter("status ne 'active'")).toBeUndefined();
  });

  it('keeps the pushable sides of and', () => {
    expect(tableFilter(`status eq 'active' and customer/tenantId eq ${TENANT_A}`)).toBe(
      `(status eq 'active') and (customerTenantId eq '${TENANT_A}')`,
    );
    expect(tableFilter("status eq 'active' and displayName eq 'x'")).toBe("status eq 'active'");
    expect(tableFilter("displayName eq 'x' and status eq 'active'")).toBe("status eq 'active'");
    expect(tableFilter("displayName eq 'x' and endDateTime eq null")).toBeUndefined();
  });

  it('pushes or only when both sides are pushable', () => {
    expect(tableFilter("status eq 'active' or status eq 'terminated'")).toBe(
      "(status eq 'active') or (status eq 'terminated')",
    );
    expect(tableFilter("status eq 'active' or displayName eq 'x'")).toBeUndefined();
    expect(tableFilter("(status eq 'active' and displayName eq 'x') or status eq 'terminated'")).toBe(
      "(status eq 'active') or (status eq 'terminated')",
    );
  });

  it('does not push down not', () => {
    expect(tableFilter("not (status eq 'active')")).toBeUndefined();
    expect(
      tableFilter("not (status eq 'active') and status ne 'terminated' and createdDateTime ge '2026-01-01T00:00Z'"),
    ).toBe("createdDateTime ge '2026-01-01T00:00:00.0000000Z'");
  });

  it('refuses storage column names that are not plain identifiers', () => {
    const broken: CollectionSpec<Fake> = {
      ...spec,
      fields: [{ path: 'status', type: 'enum', storageColumn: 'status or true', get: (e) => e.status }],
    };
    expect(() => tableFilter("status eq 'active'", broken)).toThrow('Invalid storage column name');
  });

  it('is implied by the OData filter for every entity', () => {
    // Evaluates the generated table filter in memory to check the weakening rules end to end.
    const evaluateTable = (filter: string, entity: Fake): boolean => {
      const row: Record<string, string | null> = {
        status: entity.status,
        customerTenantId: entity.customerTenantId,
        createdDateTime: entity.createdDateTime,
        autoExtendDuration: entity.autoExtendDuration,
      };
      const js = filter
        .replace(/'((?:[^']|'')*)'/g, (_m, text: string) => JSON.stringify(text.replace(/''/g, "'")))
        .replace(/\b(\w+) (eq|ne|gt|ge|lt|le) /g, (_m, column: string, op: string) => {
          const jsOp = { eq: '===', ne: '!==', gt: '>', ge: '>=', lt: '<', le: '<=' }[op];
          return `row[${JSON.stringify(column)}] ${jsOp} `;
        })
        .replace(/\band\b/g, '&&')
        .replace(/\bor\b/g, '||');
      return (new Function('row', `return ${js};`) as (r: typeof row) => boolean)(row);
    };
    const entities = [
      fake(),
      fake({ status: 'terminated', displayName: 'x' }),
      fake({ customerTenantId: TENANT_B, createdDateTime: '2025-06-01T00:00:00.0000000Z' }),
      fake({ displayName: null, endDateTime: null }),
    ];
    const filters = [
      "status eq 'active' and displayName eq 'x'",
      "(status eq 'active' or status eq 'terminated') and createdDateTime ge 2026-01-01T00:00:00Z",
      `customer/tenantId eq ${TENANT_B} or (status eq 'terminated' and endDateTime eq null)`,
      "not (status eq 'active') and createdDateTime lt 2026-06-01T00:00:00Z",
    ];
    for (const filter of filters) {
      const node = filterOf(filter);
      const table = toTableFilter(node, spec);
      for (const entity of entities) {
        if (matchesFilter(node, entity, spec) && table !== undefined) expect(evaluateTable(table, entity)).toBe(true);
      }
    }
  });
});

describe('compareEntities', () => {
  const a = fake({ displayName: 'alpha', createdDateTime: '2026-01-02T00:00:00.0000000Z', status: 'active' });
  const b = fake({ displayName: 'Beta', createdDateTime: '2026-01-01T00:00:00.0000000Z', status: 'active' });
  const c = fake({ displayName: null, createdDateTime: '2026-01-03T00:00:00.0000000Z', status: 'terminated' });

  const sorted = (orderBy: string) => {
    const query = parse({ $orderby: orderBy });
    return [b, c, a].sort((x, y) => compareEntities(x, y, query.orderBy, spec));
  };

  it('sorts ascending with nulls first and case-insensitively where configured', () => {
    expect(sorted('displayName')).toEqual([c, a, b]);
  });

  it('sorts descending with nulls last', () => {
    expect(sorted('displayName desc')).toEqual([b, a, c]);
  });

  it('sorts dateTime values chronologically', () => {
    expect(sorted('createdDateTime')).toEqual([b, a, c]);
  });

  it('breaks ties with later keys', () => {
    expect(sorted('status desc, createdDateTime desc')).toEqual([c, a, b]);
    expect(sorted('status,createdDateTime')).toEqual([b, a, c]);
  });

  it('returns 0 for ties and for no keys', () => {
    expect(compareEntities(a, b, [{ path: 'status', descending: false }], spec)).toBe(0);
    expect(compareEntities(a, c, [], spec)).toBe(0);
    expect(compareEntities(fake({ endDateTime: null }), c, [{ path: 'endDateTime', descending: true }], spec)).toBe(
      -compareEntities(fake({ endDateTime: null }), c, [{ path: 'endDateTime', descending: false }], spec),
    );
  });
});

describe('applySelect', () => {
  const entity = {
    '@odata.type': '#microsoft.graph.delegatedAdminRelationship',
    id: 'rel-1',
    displayName: 'Contoso',
    status: 'active',
    customer: { tenantId: TENANT_A },
    '@odata.etag': 'W/"1"',
  };

  it('returns the entity unchanged without $select', () => {
    expect(applySelect(entity, undefined)).toBe(entity);
  });

  it('keeps id, @odata annotations and selected keys in the original order', () => {
    const result = applySelect(entity, ['status', 'displayName']);
    expect(result).toEqual({
      '@odata.type': '#microsoft.graph.delegatedAdminRelationship',
      id: 'rel-1',
      displayName: 'Contoso',
      status: 'active',
      '@odata.etag': 'W/"1"',
    });
    expect(Object.keys(result)).toEqual(['@odata.type', 'id', 'displayName', 'status', '@odata.etag']);
    expect(result).not.toBe(entity);
  });

  it('ignores selected names the entity does not have', () => {
    expect(applySelect({ id: '1', status: 'x' }, ['endDateTime'])).toEqual({ id: '1' });
  });
});

describe('literal normalisation', () => {
  const normalizingSpec: CollectionSpec<Fake> = {
    ...spec,
    fields: spec.fields.map((field) =>
      field.path === 'autoExtendDuration'
        ? { ...field, normalize: (value: string) => (value === 'P0D' ? 'PT0S' : value) }
        : field,
    ),
  };

  it('maps a literal to the stored spelling before matching and push-down', () => {
    const query = parseCollectionQuery(
      new URLSearchParams({ $filter: "autoExtendDuration eq 'P0D'" }),
      normalizingSpec,
    );
    expect(matchesFilter(query.filter, fake({ autoExtendDuration: 'PT0S' }), normalizingSpec)).toBe(true);
    expect(toTableFilter(query.filter, normalizingSpec)).toBe("autoExtendDuration eq 'PT0S'");
  });
});

describe('boolean properties', () => {
  interface Flagged {
    isBuiltIn: boolean;
  }
  const flags: CollectionSpec<Flagged> = {
    fields: [{ path: 'isBuiltIn', type: 'boolean', get: (f) => String(f.isBuiltIn) }],
    selectable: ['isBuiltIn'],
  };
  const filterOf = (text: string) => parseCollectionQuery(new URLSearchParams({ $filter: text }), flags).filter;

  it('compares with true and false literals', () => {
    expect(matchesFilter(filterOf('isBuiltIn eq true'), { isBuiltIn: true }, flags)).toBe(true);
    expect(matchesFilter(filterOf('isBuiltIn eq false'), { isBuiltIn: true }, flags)).toBe(false);
    expect(matchesFilter(filterOf('isBuiltIn ne false'), { isBuiltIn: true }, flags)).toBe(true);
  });

  it('refuses strings and ordering for booleans', () => {
    expect(() => filterOf("isBuiltIn eq 'true'")).toThrow(DomainError);
    expect(() => filterOf('isBuiltIn gt false')).toThrow(/use eq or ne/);
  });
});
