import { randomUUID } from 'node:crypto';
import { Fleet, Json, jobsUrl, waitFor } from './fleet';
import { expectOk, relationshipsUrl } from './support';
import { ReceivedEvent, useWebhookTestBed } from './webhookReceiver';

/**
 * Changes made by bulk jobs and template onboarding (SPEC §15) send their webhook events (SPEC
 * §16) like the same changes made by a request: the events are part of each change's plan.
 */
describe('webhooks from jobs and template onboarding', () => {
  const bed = useWebhookTestBed();
  const fleet = () => new Fleet(bed.client);
  const names = (events: ReceivedEvent[], path: string) =>
    events
      .filter((event) => event.event.ResourceUri === `${bed.host.url}${path}`)
      .map((event) => event.event.EventName);

  it('sends the events of onboarding (implied consent and approval), a removeDap job and a terminate job', async () => {
    const partner = await fleet().partner();
    const withDap = await fleet().customer();
    const approving = await fleet().customer();
    const receiver = await bed.receiver();
    expectOk(
      await bed.client.call('POST', '/webhooks/v1/registration', {
        token: partner.token,
        body: {
          WebhookUrl: receiver.url,
          WebhookEvents: [
            'granular-admin-relationship-approved',
            'granular-admin-relationship-activated',
            'granular-admin-relationship-terminated',
            'granular-admin-access-assignment-created',
            'granular-admin-access-assignment-deleted',
            'dap-admin-relationship-terminated',
          ],
        },
      }),
      200,
    );
    await fleet().importDap(partner.tenantId, withDap.tenantId);
    const template = await fleet().template(partner.token, [randomUUID()]);

    // Onboarding: the DAP customer's relationship is born active with the template's group; the
    // other's is locked, and its group follows the customer's approval (a follow-up of that change).
    const onboarding = await fleet().assign(partner.token, template.id, [withDap.tenantId, approving.tenantId]);
    const { items } = await fleet().settledJob(partner.token, onboarding);
    const itemOf = (tenantId: string) => items.find((item) => item.customerTenantId === tenantId) as Json;
    const implied = String(itemOf(withDap.tenantId).relationshipId);
    const approved = String(itemOf(approving.tenantId).relationshipId);
    expectOk(await bed.client.request(approving.token, approved, 'approve'), 201);
    await waitFor(async () => ((await fleet().assignments(partner.token, approved)).size === 1 ? true : undefined));

    // Fleet jobs: the DAP removed (GDAP covers the customer now), then the relationship terminated.
    const postJob = async (body: Json) => {
      const location = String(
        expectOk(await bed.client.call('POST', jobsUrl, { token: partner.token, body }), 202).headers.get('location'),
      );
      const settled = await fleet().settledJob(partner.token, location);
      expect(settled.items.map((item) => item.state)).toEqual(['completed']);
    };
    await postJob({ kind: 'removeDap', customerTenantIds: [withDap.tenantId] });
    await postJob({ kind: 'terminate', relationshipIds: [implied] });

    const assignmentPath = async (relationshipId: string) => {
      const listed = await bed.client.call<{ value: Json[] }>(
        'GET',
        `${relationshipsUrl}/${relationshipId}/accessAssignments`,
        { token: partner.token },
      );
      return `${relationshipsUrl}/${relationshipId}/accessAssignments/${String(expectOk(listed, 200).body.value[0].id)}`;
    };
    // Two per relationship, two for the terminated one's group and one for the other's, the DAP removal.
    const expected = 2 + 2 + 2 + 1 + 1;
    await receiver.waitFor((r) => r.events().length >= expected);
    // Anything late or duplicated would show within a short while.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const events = receiver.events();
    expect(events).toHaveLength(expected);
    expect(receiver.requests).toHaveLength(expected); // each event id once
    expect(events.every((event) => event.verified)).toBe(true);

    // Born active by implied consent: activated without an approval; its group created with it.
    expect(names(events, `${relationshipsUrl}/${implied}`)).toEqual([
      'granular-admin-relationship-activated',
      'granular-admin-relationship-terminated',
    ]);
    expect(names(events, await assignmentPath(implied))).toEqual([
      'granular-admin-access-assignment-created',
      'granular-admin-access-assignment-deleted',
    ]);
    expect(names(events, `${relationshipsUrl}/${approved}`)).toEqual([
      'granular-admin-relationship-approved',
      'granular-admin-relationship-activated',
    ]);
    expect(names(events, await assignmentPath(approved))).toEqual(['granular-admin-access-assignment-created']);
    expect(names(events, `/v1/dapRelationships/${withDap.tenantId}`)).toEqual(['dap-admin-relationship-terminated']);
  });
});
