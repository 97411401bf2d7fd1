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

  it('gives a tenant 128 partitions, in key order', () => {
    const partitions = tenantPartitions(partner);
    expect(partitions).toHaveLength(128);
    expect(new Set(partitions).size).toBe(128);
    expect([...partitions].sort()).toEqual(partitions);
    expect(partitions.slice(0, 3)).toEqual([`${partner}|00`, `${partner}|02`, `${partner}|04`]);
    expect(partitions[127]).toBe(`${partner}|fe`);
  });

  it('places relationships so that partition order is id order', () => {
    const ids = Array.from({ length: 500 }, () => `${randomUUID()}-${partner}`).sort();
    const partitions = ids.map((id) => relationshipPartition({ id, partnerTenantId: partner }));
    expect([...partitions].sort()).toEqual(partitions);
    expect(partitions.every((partition) => tenantPartitions(partner).includes(partition))).toBe(true);
    expect(relationshipPartition({ id: `a7${randomUUID().slice(2)}`, partnerTenantId: partner })).toBe(`${partner}|a6`);
  });

  it("chooses a new relationship's id in the partition reserving its name, whatever the name's case", () => {
    for (const name of ['Contoso', 'CONTOSO onboarding', 'Fabrikam – Étude', 'x']) {
      const id = newRelationshipIdBesideName(partner, name);
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-/);
      expect(relationshipPartition({ id, partnerTenantId: partner })).toBe(namePartition(partner, name.toUpperCase()));
    }
  });

  it("spreads a tenant's events over all of its partitions", () => {
    const used = new Set(Array.from({ length: 4000 }, () => tenantPartitionOf(partner, randomUUID())));
    expect(used.size).toBe(128);
  });
});
