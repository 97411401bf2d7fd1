import { DateTime } from 'luxon';
import { parseBulkAutoExtend, relationshipAnalytics } from '../../shared/domain/analytics';
import { activateDefault, createRelationship, Relationship } from '../../shared/domain/relationships';
import { globalAdministratorRoleId } from '../../shared/domain/roles';
import { roles } from '../fixtures';

const now = DateTime.fromISO('2026-05-01T00:00:00Z', { zone: 'utc' });
const partner = '11111111-1111-4111-8111-111111111111';
const exchangeAdministrator = roles.exchangeAdministrator;
let counter = 0;

function active(days: number, options: { roles?: string[]; autoExtend?: string } = {}): Relationship {
  counter++;
  const draft = createRelationship(
    {
      displayName: `r${counter}`,
      duration: `P${days}D`,
      autoExtendDuration: options.autoExtend ?? 'PT0S',
      customer: { tenantId: '22222222-2222-4222-8222-222222222222' },
      accessDetails: {
        unifiedRoles: (options.roles ?? [exchangeAdministrator]).map((roleDefinitionId) => ({ roleDefinitionId })),
      },
    },
    { id: `id${counter}`, partnerTenantId: partner },
    now,
  );
  return activateDefault(draft, now);
}

describe('activateDefault', () => {
  it('makes a draft active at once, ending after its duration', () => {
    expect(active(730)).toMatchObject({
      status: 'active',
      activatedDateTime: '2026-05-01T00:00:00.0000000Z',
      endDateTime: '2028-04-30T00:00:00.0000000Z',
    });
  });
});

describe('relationship analytics (SPEC §9)', () => {
  it('counts statuses, ending windows, GA and unassigned relationships', () => {
    const in20 = active(20);
    const in45 = active(45);
    const in80 = active(80, { roles: [globalAdministratorRoleId] });
    const in80Extending = active(80, { autoExtend: 'P180D' });
    const in200 = active(200);
    const draft = { ...active(10), status: 'created' as const, activatedDateTime: null, endDateTime: null };
    const expired = { ...active(10), status: 'expired' as const };
    const assigned = new Set([in20.id, in200.id]);
    const result = relationshipAnalytics(
      [in20, in45, in80, in80Extending, in200, draft, expired],
      (r) => assigned.has(r.id),
      now,
    );
    expect(result.byStatus).toMatchObject({ active: 5, created: 1, expired: 1, approvalPending: 0, terminated: 0 });
    expect(result.byStatus).not.toHaveProperty('unknownFutureValue');
    expect(result.endingWithinDays).toEqual({ '30': 1, '60': 2, '90': 3 });
    expect(result.notAutoExtendableGlobalAdministrator).toBe(1);
    expect(result.activeWithoutAccessAssignments).toBe(3);
  });
});

describe('bulk auto-extend requests', () => {
  const ids = (n: number) => Array.from({ length: n }, (_, i) => `id-${i}`);

  it('accepts 1 to 25 distinct ids and a supported duration', () => {
    expect(parseBulkAutoExtend({ relationshipIds: ids(25), autoExtendDuration: 'P180D' })).toEqual({
      relationshipIds: ids(25),
      autoExtendDuration: 'P180D',
    });
    expect(parseBulkAutoExtend({ relationshipIds: ['a'], autoExtendDuration: 'P0D' }).autoExtendDuration).toBe('PT0S');
  });

  it.each<[string, unknown, RegExp]>([
    ['26 ids', { relationshipIds: ids(26), autoExtendDuration: 'P180D' }, /at most 25/],
    ['no id', { relationshipIds: [], autoExtendDuration: 'P180D' }, /at least one/],
    ['a repeated id', { relationshipIds: ['a', 'A'], autoExtendDuration: 'P180D' }, /twice/],
    ['another duration', { relationshipIds: ['a'], autoExtendDuration: 'P90D' }, /autoExtendDuration/],
    ['an unknown property', { relationshipIds: ['a'], autoExtendDuration: 'P180D', force: true }, /'force'/],
  ])('refuses %s', (_label, body, message) => {
    expect(() => parseBulkAutoExtend(body)).toThrow(message);
  });
});
