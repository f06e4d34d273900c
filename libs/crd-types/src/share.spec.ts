import { FormatRegistry } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { crdManifests } from './crd.js';
import { PLURAL_SHARE, VDIShareSpecSchema } from './share.js';

// The API server checks the date-time format; TypeBox needs to be told what it is.
if (!FormatRegistry.Has('date-time')) FormatRegistry.Set('date-time', (v) => !Number.isNaN(Date.parse(v)));

describe('VDIShare', () => {
  const spec = { session: 's1', grantee: { user: 'bob' }, role: 'view', expiresAt: '2030-01-01T00:00:00Z' };
  it('accepts a user or group grantee with a role and an expiry', () => {
    expect(Value.Check(VDIShareSpecSchema, spec)).toBe(true);
    expect(Value.Check(VDIShareSpecSchema, { ...spec, grantee: { group: 'team-a' }, role: 'control' })).toBe(
      true,
    );
  });
  it('refuses an unknown role, a missing expiry or a bad session name', () => {
    expect(Value.Check(VDIShareSpecSchema, { ...spec, role: 'admin' })).toBe(false);
    const { expiresAt: _, ...noExpiry } = spec;
    expect(Value.Check(VDIShareSpecSchema, noExpiry)).toBe(false);
    expect(Value.Check(VDIShareSpecSchema, { ...spec, session: 'Not_A_Name' })).toBe(false);
  });
  it('is a namespaced CRD with CEL rules for one grantee and immutable session and grantee', () => {
    const crd = crdManifests()[PLURAL_SHARE]!;
    expect(crd.spec.scope).toBe('Namespaced');
    const v = crd.spec.versions[0]!;
    expect(v.additionalPrinterColumns.map((c) => c.name)).toEqual(
      expect.arrayContaining(['Session', 'User', 'Group', 'Role', 'Expires']),
    );
    const text = JSON.stringify(v.schema);
    expect(text).toContain('has(self.user) != has(self.group)');
    expect(text).toContain('a share cannot move to another session');
    expect(text).toContain('the grantee cannot change');
    expect((v.schema.openAPIV3Schema.properties.spec as { required?: string[] }).required).toEqual(
      expect.arrayContaining(['session', 'grantee', 'role', 'expiresAt']),
    );
  });
});
