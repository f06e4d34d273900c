/**
 * The admin page's template form: its fields, the form filled from a template, the first checks
 * of what was typed (so an obvious slip is named beside its field before anything is sent), and
 * the form as the API's input — on create every field filled in, on edit only what changed, an
 * emptied field sent as null (removed, or back to its default). The API checks everything again
 * against the CRD and its answer is shown as given. Also: a template's status in words, and which
 * templates the gallery offers. Pure: unit-tested beside it.
 */
import type { Availability } from './availability';
import { templateAvailability } from './availability';
import type { AdminTemplate, GalleryTemplate } from './api/templates';
import type { Capacity } from './api/types';

export type FieldKind = 'text' | 'int' | 'memory' | 'cpu' | 'duration' | 'choice';

export interface FormField {
  key: string;
  label: string;
  kind: FieldKind;
  group: 'Shown to users' | 'Desktop' | 'Resources' | 'Display' | 'Lifetime' | 'Home';
  required?: boolean;
  /** Chosen on create only (a home's size and kind cannot change under existing sessions). */
  createOnly?: boolean;
  options?: readonly string[];
  /** What the CRD uses when the field is left empty. */
  defaultText?: string;
  help?: string;
}

/** Selkies 2.x encoders, as the CRD lists them (the API refuses any other). */
const ENCODERS = ['auto', 'h264enc', 'h265enc', 'vp8enc', 'vp9enc', 'av1enc', 'h264enc-striped', 'jpeg'];

export const TEMPLATE_FORM_FIELDS: readonly FormField[] = [
  { key: 'displayName', label: 'Display name', kind: 'text', group: 'Shown to users', required: true },
  { key: 'description', label: 'Description', kind: 'text', group: 'Shown to users' },
  {
    key: 'icon',
    label: 'Icon URL',
    kind: 'text',
    group: 'Shown to users',
    help: 'https://… or data:image/…',
  },
  {
    key: 'image',
    label: 'Image',
    kind: 'text',
    group: 'Desktop',
    required: true,
    help: 'e.g. ghcr.io/selkies-project/nvidia-egl-desktop:24.04',
  },
  {
    key: 'imagePullPolicy',
    label: 'Image pull policy',
    kind: 'choice',
    group: 'Desktop',
    options: ['Always', 'IfNotPresent', 'Never'],
    defaultText: 'cluster default',
  },
  {
    key: 'encoder',
    label: 'Encoder',
    kind: 'choice',
    group: 'Desktop',
    options: ENCODERS,
    defaultText: 'auto',
  },
  {
    key: 'streamingMode',
    label: 'Streaming',
    kind: 'choice',
    group: 'Desktop',
    options: ['websockets', 'webrtc'],
    defaultText: 'websockets',
  },
  {
    key: 'defaultGPU',
    label: 'GPU time-slices (default)',
    kind: 'int',
    group: 'Resources',
    defaultText: '0',
  },
  { key: 'maxGPU', label: 'GPU time-slices (max)', kind: 'int', group: 'Resources', defaultText: '1' },
  { key: 'defaultMemory', label: 'Memory (default)', kind: 'memory', group: 'Resources', defaultText: '4Gi' },
  { key: 'minMemory', label: 'Memory (min)', kind: 'memory', group: 'Resources' },
  { key: 'maxMemory', label: 'Memory (max)', kind: 'memory', group: 'Resources' },
  { key: 'defaultCPU', label: 'CPU (default)', kind: 'cpu', group: 'Resources', defaultText: '2' },
  { key: 'minCPU', label: 'CPU (min)', kind: 'cpu', group: 'Resources' },
  { key: 'maxCPU', label: 'CPU (max)', kind: 'cpu', group: 'Resources' },
  { key: 'shmSize', label: '/dev/shm size', kind: 'memory', group: 'Resources', defaultText: '1Gi' },
  { key: 'width', label: 'Width', kind: 'int', group: 'Display', defaultText: '1920' },
  { key: 'height', label: 'Height', kind: 'int', group: 'Display', defaultText: '1080' },
  { key: 'framerate', label: 'Frame rate', kind: 'int', group: 'Display', defaultText: '60' },
  { key: 'dpi', label: 'DPI', kind: 'int', group: 'Display', defaultText: '96' },
  { key: 'bitrateKbps', label: 'Bitrate (kbit/s)', kind: 'int', group: 'Display', defaultText: '8000' },
  {
    key: 'lifetimeDefault',
    label: 'Lifetime (default)',
    kind: 'duration',
    group: 'Lifetime',
    defaultText: 'none',
  },
  { key: 'lifetimeMax', label: 'Lifetime (max)', kind: 'duration', group: 'Lifetime', defaultText: 'none' },
  { key: 'idleDefault', label: 'Idle timeout (default)', kind: 'duration', group: 'Lifetime' },
  { key: 'idleMax', label: 'Idle timeout (max)', kind: 'duration', group: 'Lifetime' },
  {
    key: 'idleAction',
    label: 'When idle',
    kind: 'choice',
    group: 'Lifetime',
    options: ['Stop', 'Delete'],
    defaultText: 'Stop',
  },
  {
    key: 'persistence',
    label: 'Home',
    kind: 'choice',
    group: 'Home',
    createOnly: true,
    options: ['user', 'session', 'none'],
    defaultText: 'user',
    help: 'user: kept per user; session: lives with the session; none: no home',
  },
  {
    key: 'homeSize',
    label: 'Home size',
    kind: 'memory',
    group: 'Home',
    createOnly: true,
    defaultText: '10Gi',
  },
];

/** The form's values: every field as typed (empty: not set), and the name on create. */
export type TemplateForm = Record<string, string>;

export function emptyTemplateForm(): TemplateForm {
  return Object.fromEntries([['name', ''], ...TEMPLATE_FORM_FIELDS.map((f) => [f.key, ''])]);
}

/** The form filled with a template's current values (its defaults shown as values). */
export function formFromTemplate(t: AdminTemplate): TemplateForm {
  const values = t as unknown as Record<string, unknown>;
  const form = emptyTemplateForm();
  form.name = t.name;
  for (const f of TEMPLATE_FORM_FIELDS) {
    const v = values[f.key];
    form[f.key] = v === null || v === undefined ? '' : String(v);
  }
  // idleAction means nothing without an idle timeout: the API reports it only with one.
  if (!t.idleDefault && !t.idleMax) form.idleAction = '';
  return form;
}

/** The quantity grammar of Kubernetes (the CRD's QUANTITY_PATTERN; template-form.spec.ts keeps them equal). */
export const QUANTITY_RE = /^[+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)(([KMGTPE]i)|[numkMGTPE]|([eE][-+]?[0-9]+))?$/;
const DURATION_RE = /^([0-9]+(h|m|s))+$/;
const NAME_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Problems of what was typed, by field key; empty when the form may be sent. */
export function templateFormProblems(form: TemplateForm, mode: 'create' | 'edit'): Record<string, string> {
  const out: Record<string, string> = {};
  if (mode === 'create') {
    const name = form.name?.trim() ?? '';
    if (!name) out.name = 'A name is required.';
    else if (name.length > 63) out.name = 'At most 63 characters.';
    else if (!NAME_RE.test(name)) {
      out.name = "Lower-case letters, digits, '-' and '.', starting and ending with a letter or digit.";
    }
  }
  for (const f of TEMPLATE_FORM_FIELDS) {
    if (f.createOnly && mode === 'edit') continue;
    const v = (form[f.key] ?? '').trim();
    if (!v) {
      if (f.required) out[f.key] = `${f.label} is required.`;
      continue;
    }
    if (f.kind === 'int' && !/^-?\d+$/.test(v)) out[f.key] = 'A whole number.';
    if ((f.kind === 'memory' || f.kind === 'cpu') && !QUANTITY_RE.test(v)) {
      out[f.key] = f.kind === 'memory' ? 'A quantity such as 4Gi or 512Mi.' : 'A quantity such as 2 or 500m.';
    }
    if (f.kind === 'duration' && !DURATION_RE.test(v)) out[f.key] = 'A duration such as 8h, 90m or 1h30m.';
    if (f.kind === 'choice' && f.options && !f.options.includes(v))
      out[f.key] = `One of ${f.options.join(', ')}.`;
    if (f.kind === 'text' && f.key === 'image' && /\s/.test(v))
      out[f.key] = 'An image reference has no spaces.';
  }
  return out;
}

type InputValue = string | number | null;

const value = (f: FormField, v: string): InputValue => (f.kind === 'int' ? Number(v) : v);

/**
 * The API's input: on create, the name and every field filled in (empty ones are left to the
 * CRD's defaults); on edit, only the fields that differ from `original` (an emptied one as null).
 */
export function templateInputFromForm(
  form: TemplateForm,
  mode: 'create' | 'edit',
  original?: TemplateForm,
): Record<string, InputValue> {
  const input: Record<string, InputValue> = {};
  if (mode === 'create') input.name = (form.name ?? '').trim();
  for (const f of TEMPLATE_FORM_FIELDS) {
    if (f.createOnly && mode === 'edit') continue;
    const v = (form[f.key] ?? '').trim();
    if (mode === 'create') {
      if (v) input[f.key] = value(f, v);
      continue;
    }
    const before = (original?.[f.key] ?? '').trim();
    if (v === before) continue;
    input[f.key] = v ? value(f, v) : null;
  }
  return input;
}

/** A template's state in a word, a tone for its badge, and the detail behind it. */
export function templateState(t: Pick<AdminTemplate, 'retired' | 'usable' | 'message'>): {
  label: 'Retired' | 'Usable' | 'Not usable';
  tone: 'ready' | 'waiting' | 'failed';
  detail?: string;
} {
  if (!t.usable) {
    return { label: 'Not usable', tone: 'failed', detail: t.message || 'the operator found it invalid' };
  }
  if (t.retired)
    return { label: 'Retired', tone: 'waiting', detail: 'takes no new sessions; its sessions keep running' };
  return { label: 'Usable', tone: 'ready' };
}

/** "3 sessions" */
export const sessionCountText = (n: number) => `${n} ${n === 1 ? 'session' : 'sessions'}`;

/**
 * The templates the gallery shows: retired ones only to admins (who see them marked, and cannot
 * launch them either); everyone else is never offered a template that takes no new sessions.
 */
export function galleryTemplates<T extends Pick<GalleryTemplate, 'retired'>>(
  templates: T[],
  isAdmin: boolean,
): T[] {
  return isAdmin ? templates : templates.filter((t) => !t.retired);
}

/** Whether a gallery template can be launched now: never when retired. */
export function launchAvailability(
  t: Pick<GalleryTemplate, 'retired' | 'usable' | 'message' | 'defaultGPU'>,
  capacity: Pick<Capacity, 'gpuSlicesTotal' | 'gpuSlicesFree' | 'sessionsWaiting'> | undefined,
): Availability {
  if (t.retired) {
    return {
      available: false,
      reason:
        'Retired: this template takes no new sessions (only admins see it). Restore it on the admin page to offer it again.',
    };
  }
  return templateAvailability(t, capacity);
}
