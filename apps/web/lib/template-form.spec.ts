import { QUANTITY_PATTERN } from '@vdi/crd-types';
import type { AdminTemplate } from './api/templates';
import {
  emptyTemplateForm,
  formFromTemplate,
  galleryTemplates,
  launchAvailability,
  QUANTITY_RE,
  templateFormProblems,
  templateInputFromForm,
  templateState,
} from './template-form';

const TEMPLATE: AdminTemplate = {
  name: 'xfce',
  displayName: 'XFCE desktop',
  description: 'A light desktop',
  icon: null,
  defaultGPU: 0,
  maxGPU: 0,
  usable: true,
  message: null,
  retired: false,
  conditions: [],
  sessionCount: 2,
  image: 'vdi.local/desktop:abc',
  imagePullPolicy: 'Never',
  defaultMemory: '2Gi',
  defaultCPU: '500m',
  minMemory: null,
  minCPU: null,
  maxMemory: '4Gi',
  maxCPU: null,
  encoder: 'auto',
  persistence: 'user',
  width: 1280,
  height: 720,
  framerate: 30,
  dpi: 96,
  bitrateKbps: 8000,
  streamingMode: 'websockets',
  lifetimeDefault: '8h',
  lifetimeMax: '24h',
  idleDefault: null,
  idleMax: null,
  idleAction: null,
  shmSize: '1Gi',
  homeSize: '10Gi',
  resourceVersion: '42',
};

const filled = (over: Record<string, string>) => ({
  ...emptyTemplateForm(),
  name: 'new-desktop',
  displayName: 'New desktop',
  image: 'ghcr.io/x/desktop:1',
  ...over,
});

describe('templateFormProblems', () => {
  it('accepts a form with a name, a display name and an image', () => {
    expect(templateFormProblems(filled({}), 'create')).toEqual({});
  });

  it('names each field that is missing or mistyped', () => {
    expect(
      templateFormProblems(
        filled({
          name: 'Bad_Name',
          displayName: ' ',
          defaultMemory: 'lots',
          maxCPU: '2 cores',
          width: 'wide',
          lifetimeMax: '1 day',
          encoder: 'mpeg2',
          image: 'has space',
        }),
        'create',
      ),
    ).toEqual({
      name: "Lower-case letters, digits, '-' and '.', starting and ending with a letter or digit.",
      displayName: 'Display name is required.',
      defaultMemory: 'A quantity such as 4Gi or 512Mi.',
      maxCPU: 'A quantity such as 2 or 500m.',
      width: 'A whole number.',
      lifetimeMax: 'A duration such as 8h, 90m or 1h30m.',
      encoder: 'One of auto, h264enc, h265enc, vp8enc, vp9enc, av1enc, h264enc-striped, jpeg.',
      image: 'An image reference has no spaces.',
    });
    expect(templateFormProblems(filled({ name: '' }), 'create')).toEqual({ name: 'A name is required.' });
    expect(templateFormProblems(filled({ name: 'a'.repeat(64) }), 'create')).toEqual({
      name: 'At most 63 characters.',
    });
  });

  it('does not check the name or create-only fields on edit', () => {
    expect(templateFormProblems(filled({ name: '', homeSize: 'huge' }), 'edit')).toEqual({});
  });

  it("uses the CRD's own quantity grammar", () => {
    expect(QUANTITY_RE.source).toBe(QUANTITY_PATTERN);
  });
});

describe('templateInputFromForm', () => {
  it('on create sends the name and only the fields filled in, numbers as numbers', () => {
    expect(
      templateInputFromForm(
        filled({ defaultGPU: '1', defaultMemory: ' 8Gi ', persistence: 'none' }),
        'create',
      ),
    ).toEqual({
      name: 'new-desktop',
      displayName: 'New desktop',
      image: 'ghcr.io/x/desktop:1',
      defaultGPU: 1,
      defaultMemory: '8Gi',
      persistence: 'none',
    });
  });

  it('on edit sends only what changed, an emptied field as null, never create-only fields', () => {
    const original = formFromTemplate(TEMPLATE);
    const edited = {
      ...original,
      displayName: 'XFCE (new)',
      maxMemory: '',
      framerate: '60',
      homeSize: '20Gi',
    };
    expect(templateInputFromForm(edited, 'edit', original)).toEqual({
      displayName: 'XFCE (new)',
      maxMemory: null,
      framerate: 60,
    });
    expect(templateInputFromForm(original, 'edit', original)).toEqual({});
  });
});

describe('formFromTemplate', () => {
  it("fills every field with the template's values, empty where it has none", () => {
    const form = formFromTemplate(TEMPLATE);
    expect(form).toMatchObject({
      name: 'xfce',
      displayName: 'XFCE desktop',
      icon: '',
      defaultGPU: '0',
      width: '1280',
      maxMemory: '4Gi',
      minMemory: '',
      lifetimeMax: '24h',
      idleAction: '',
    });
  });
});

describe('templateState', () => {
  it('says whether a template is usable, retired or broken, with why', () => {
    expect(templateState(TEMPLATE)).toEqual({ label: 'Usable', tone: 'ready' });
    expect(templateState({ ...TEMPLATE, retired: true })).toEqual({
      label: 'Retired',
      tone: 'waiting',
      detail: 'takes no new sessions; its sessions keep running',
    });
    expect(templateState({ ...TEMPLATE, usable: false, message: 'image not found' })).toEqual({
      label: 'Not usable',
      tone: 'failed',
      detail: 'image not found',
    });
  });
});

describe('the gallery and retired templates', () => {
  const list = [TEMPLATE, { ...TEMPLATE, name: 'old', retired: true }];

  it('hides retired templates from users and shows them to admins', () => {
    expect(galleryTemplates(list, false).map((t) => t.name)).toEqual(['xfce']);
    expect(galleryTemplates(list, true).map((t) => t.name)).toEqual(['xfce', 'old']);
  });

  it('never offers a retired template for launch, and otherwise decides as before', () => {
    expect(launchAvailability({ ...TEMPLATE, retired: true }, undefined)).toEqual({
      available: false,
      reason: expect.stringMatching(/^Retired: this template takes no new sessions/),
    });
    expect(launchAvailability(TEMPLATE, undefined)).toEqual({ available: true });
  });
});
