import { crdManifests } from './crd.js';
import { POOL_SIZE_MAX, PLURAL_POOL, poolSpecErrors } from './pool.js';

describe('VDIPool', () => {
  it('accepts a template and a size from 0 to the maximum, with an optional placement', () => {
    expect(poolSpecErrors({ template: 'xfce-cpu', size: 0 })).toEqual([]);
    expect(poolSpecErrors({ template: 'xfce-cpu', size: POOL_SIZE_MAX })).toEqual([]);
    expect(
      poolSpecErrors({
        template: 'gpu',
        size: 2,
        placement: { nodeSelector: { zone: 'a' }, gpuProduct: 'NVIDIA-L4-SHARED' },
      }),
    ).toEqual([]);
  });

  it('refuses a negative size, one above the maximum, and a template that cannot be a name', () => {
    expect(poolSpecErrors({ template: 'x', size: -1 }).join()).toMatch(/size/);
    expect(poolSpecErrors({ template: 'x', size: POOL_SIZE_MAX + 1 }).join()).toMatch(/size/);
    expect(poolSpecErrors({ template: 'Not A Name', size: 1 }).join()).toMatch(/template/);
  });

  it('is a namespaced CRD with warm, claimed and Poolable columns', () => {
    const crd = crdManifests()[PLURAL_POOL];
    expect(crd.spec.scope).toBe('Namespaced');
    expect(crd.spec.names.kind).toBe('VDIPool');
    const columns = crd.spec.versions[0]!.additionalPrinterColumns.map((c) => c.name);
    expect(columns).toEqual(expect.arrayContaining(['Template', 'Size', 'Warm', 'Claimed', 'Poolable']));
    const size = (
      crd.spec.versions[0]!.schema.openAPIV3Schema.properties.spec as { properties: Record<string, unknown> }
    ).properties.size;
    expect(size).toMatchObject({ minimum: 0, maximum: POOL_SIZE_MAX });
  });

  it('checks a schedule: days Mon..Sun, HH:MM times (end up to 24:00), window sizes and count', () => {
    const w = { days: ['Mon', 'Fri'], start: '09:00', end: '24:00', size: 3 };
    const spec = (windows: unknown[], timeZone?: string) => ({
      template: 'x',
      size: 1,
      schedule: { ...(timeZone ? { timeZone } : {}), windows },
    });
    expect(poolSpecErrors(spec([w], 'Europe/Berlin'))).toEqual([]);
    expect(poolSpecErrors(spec([{ ...w, days: ['Monday'] }])).join()).toMatch(/days/);
    expect(poolSpecErrors(spec([{ ...w, start: '24:00' }])).join()).toMatch(/start/);
    expect(poolSpecErrors(spec([{ ...w, end: '9:00' }])).join()).toMatch(/end/);
    expect(poolSpecErrors(spec([{ ...w, size: POOL_SIZE_MAX + 1 }])).join()).toMatch(/size/);
    expect(poolSpecErrors(spec(Array.from({ length: 33 }, () => w))).join()).toMatch(/windows/);
    expect(poolSpecErrors(spec([w], 'not a zone!')).join()).toMatch(/timeZone/);
  });
});
