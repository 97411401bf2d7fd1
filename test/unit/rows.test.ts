import { randomUUID } from 'node:crypto';
import {
  tenantPartitionOf,
  namePartition,
  newRelationshipIdBesideName,
  relationshipPartition,
  tenantPartitions,
} from '../../shared/store/rows';

describe('Tenants table partitions', () => {
  const partner = randomUUID();

  it('gives a tenant 64 partitions, in key order', () => {
    const partitions = tenantPartitions(partner);
    expect(partitions).toHaveLength(64);
    expect(new Set(partitions).size).toBe(64);
    expect([...partitions].sort()).toEqual(partitions);
    expect(partitions.slice(0, 3)).toEqual([`${partner}|00`, `${partner}|04`, `${partner}|08`]);
    expect(partitions[63]).toBe(`${partner}|fc`);
  });

  it('places relationships so that partition order is id order', () => {
    const ids = Array.from({ length: 500 }, () => `${randomUUID()}-${partner}`).sort();
    const partitions = ids.map((id) => relationshipPartition({ id, partnerTenantId: partner }));
    expect([...partitions].sort()).toEqual(partitions);
    expect(partitions.every((partition) => tenantPartitions(partner).includes(partition))).toBe(true);
    expect(relationshipPartition({ id: `a7${randomUUID().slice(2)}`, partnerTenantId: partner })).toBe(`${partner}|a4`);
  });

  it("chooses a new relationship's id in the partition reserving its name, whatever the name's case", () => {
    for (const name of ['Contoso', 'CONTOSO onboarding', 'Fabrikam – Étude', 'x']) {
      const id = newRelationshipIdBesideName(partner, name);
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-/);
      expect(relationshipPartition({ id, partnerTenantId: partner })).toBe(namePartition(partner, name.toUpperCase()));
    }
  });

  it("spreads a tenant's events over all of its partitions", () => {
    const used = new Set(Array.from({ length: 2000 }, () => tenantPartitionOf(partner, randomUUID())));
    expect(used.size).toBe(64);
  });
});
