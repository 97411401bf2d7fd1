import { loadConfig } from '../../shared/config';

describe('configuration', () => {
  it("points the invitation link at the portal in sandbox mode, at Microsoft's admin center otherwise", () => {
    expect(loadConfig({ SANDBOX_MODE: 'true' }).invitationUrlTemplate).toBe('{baseUrl}/portal/invitations/{id}');
    expect(loadConfig({}).invitationUrlTemplate).toBe(
      'https://admin.microsoft.com/AdminPortal/Home#/partners/invitation/granularAdminRelationships/{id}',
    );
    expect(
      loadConfig({ SANDBOX_MODE: 'true', INVITATION_URL_TEMPLATE: 'https://approve.example/{id}' })
        .invitationUrlTemplate,
    ).toBe('https://approve.example/{id}');
  });

  it('reads the portal sign-in settings and refuses an authority that is not https', () => {
    expect(loadConfig({}).portal).toEqual({ authority: 'https://login.microsoftonline.com/organizations' });
    expect(
      loadConfig({
        PORTAL_CLIENT_ID: ' 11111111-2222-3333-4444-555555555555 ',
        PORTAL_AUTHORITY: 'https://login.example/t/',
      }).portal,
    ).toEqual({ clientId: '11111111-2222-3333-4444-555555555555', authority: 'https://login.example/t' });
    expect(() => loadConfig({ PORTAL_AUTHORITY: 'http://login.example' })).toThrow(/PORTAL_AUTHORITY/);
  });
});
