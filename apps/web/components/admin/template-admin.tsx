'use client';
/**
 * The admin page for templates: every template with its status (usable, the operator's
 * message and conditions, retired) and how many sessions use it, re-read every few seconds; a
 * form to create one or edit one; Retire / Restore; Delete for a template no session uses. The
 * API enforces the admin role and checks every value against the CRD; its errors are shown as
 * it gives them. The form's own checks (lib/template-form.ts) only catch slips early.
 */
import Link from 'next/link';
import { useMemo, useState, type FormEvent } from 'react';
import { ApiError } from '../../lib/api/graphql';
import {
  ADMIN_TEMPLATES,
  CREATE_TEMPLATE,
  DELETE_TEMPLATE,
  RESTORE_TEMPLATE,
  RETIRE_TEMPLATE,
  UPDATE_TEMPLATE,
  type AdminTemplate,
  type AdminTemplatesData,
  type CreateTemplateData,
  type DeleteTemplateData,
  type UpdateTemplateData,
} from '../../lib/api/templates';
import { explainError } from '../../lib/errors';
import {
  emptyTemplateForm,
  formFromTemplate,
  sessionCountText,
  TEMPLATE_FORM_FIELDS,
  templateFormProblems,
  templateInputFromForm,
  templateState,
  type FormField,
  type TemplateForm,
} from '../../lib/template-form';
import { useAuth } from '../auth/auth-provider';
import { AdminOnly } from './admin-only';
import { Alert } from '../ui/alert';
import { ConfirmDialog } from '../ui/confirm-dialog';
import { usePolled } from '../ui/use-polled';

/** The operator re-checks templates and sessions come and go: re-read the list this often. */
const REFRESH_MS = 10_000;
const pickTemplates = (d: AdminTemplatesData) => d.templates;

const BADGE = { ready: 'phase-running', waiting: 'phase-stopped', failed: 'phase-failed' } as const;
const GROUPS = ['Shown to users', 'Desktop', 'Resources', 'Display', 'Lifetime', 'Home'] as const;

const grid = {
  display: 'grid',
  gridTemplateColumns: 'repeat(auto-fill, minmax(14rem, 1fr))',
  gap: '0.75rem 1rem',
} as const;
const fieldStyle = { display: 'flex', flexDirection: 'column', gap: '0.25rem' } as const;
const fieldsetStyle = { border: 0, padding: 0, margin: '1rem 0 0' } as const;

type Editing = { mode: 'create' } | { mode: 'edit'; template: AdminTemplate };

export function TemplateAdminView() {
  return (
    <AdminOnly title="Templates">
      <TemplateAdmin />
    </AdminOnly>
  );
}

function TemplateAdmin() {
  const { api } = useAuth();
  const {
    value: templates,
    error: loadError,
    set: setTemplates,
  } = usePolled<AdminTemplatesData, AdminTemplate[]>(ADMIN_TEMPLATES, pickTemplates, {
    intervalMs: REFRESH_MS,
    action: 'load the templates',
  });
  const [editing, setEditing] = useState<Editing>();
  const [busy, setBusy] = useState<string>();
  const [actionError, setActionError] = useState<{ name: string; text: string }>();
  const [notice, setNotice] = useState<string>();
  const [deleting, setDeleting] = useState<AdminTemplate>();
  const [deleteError, setDeleteError] = useState<string>();

  const reload = async () => {
    try {
      setTemplates((await api.request<AdminTemplatesData>(ADMIN_TEMPLATES)).templates);
    } catch {
      // The next poll tries again; the list on screen stays meanwhile.
    }
  };

  const act = async (t: AdminTemplate, verb: 'retire' | 'restore') => {
    setBusy(t.name);
    setActionError(undefined);
    setNotice(undefined);
    try {
      await api.request(verb === 'retire' ? RETIRE_TEMPLATE : RESTORE_TEMPLATE, { name: t.name });
      setNotice(
        verb === 'retire'
          ? `${t.displayName} is retired: it takes no new sessions, and its ${sessionCountText(t.sessionCount)} keep running.`
          : `${t.displayName} is restored: users can launch it again.`,
      );
      await reload();
    } catch (err) {
      setActionError({ name: t.name, text: explainError(err, { action: `${verb} ${t.name}` }) });
    } finally {
      setBusy(undefined);
    }
  };

  const confirmDelete = async () => {
    if (!deleting) return;
    setBusy(deleting.name);
    try {
      await api.request<DeleteTemplateData>(DELETE_TEMPLATE, { name: deleting.name });
      setNotice(`${deleting.displayName} (${deleting.name}) is deleted.`);
      setDeleting(undefined);
      await reload();
    } catch (err) {
      setDeleteError(explainError(err, { action: `delete ${deleting.name}` }));
    } finally {
      setBusy(undefined);
    }
  };

  return (
    <>
      <div className="page-heading">
        <h1>Templates</h1>
        <p className="muted">
          The desktops users can launch. A retired template is no longer offered; its sessions keep running.{' '}
          <Link href="/admin">Back to the admin page</Link>
        </p>
      </div>
      {loadError && <Alert>{loadError}</Alert>}
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      {editing ? (
        <TemplateEditor
          key={editing.mode === 'edit' ? editing.template.name : 'new'}
          editing={editing}
          onSaved={(t, created) => {
            setEditing(undefined);
            setNotice(`${t.displayName} (${t.name}) is ${created ? 'created' : 'saved'}.`);
            void reload();
          }}
          onCancel={() => setEditing(undefined)}
        />
      ) : (
        <p>
          <button
            type="button"
            className="button button-primary"
            onClick={() => {
              setNotice(undefined);
              setEditing({ mode: 'create' });
            }}
          >
            New template
          </button>
        </p>
      )}
      <section aria-labelledby="templates-heading" className="section">
        <h2 id="templates-heading">All templates</h2>
        {!templates && !loadError && (
          <p className="muted" role="status">
            Loading the templates…
          </p>
        )}
        {templates && templates.length === 0 && <p className="panel">There are no templates yet.</p>}
        {templates && templates.length > 0 && (
          <table className="table template-table">
            <caption className="visually-hidden">Templates, their status and their sessions</caption>
            <thead>
              <tr>
                <th scope="col">Template</th>
                <th scope="col">Status</th>
                <th scope="col">Sessions</th>
                <th scope="col">Resources</th>
                <th scope="col">Image</th>
                <th scope="col">Image nodes</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {templates.map((t) => {
                const state = templateState(t);
                return (
                  <tr key={t.name} data-template={t.name}>
                    <th scope="row" data-label="Template">
                      {t.displayName}
                      <span className="cell-note mono">{t.name}</span>
                    </th>
                    <td data-label="Status">
                      <span className={`badge ${BADGE[state.tone]}`}>{state.label}</span>
                      {state.detail && <span className="cell-note">{state.detail}</span>}
                      {t.usable && t.retired === false && t.conditions.length === 0 && (
                        <span className="cell-note">not checked by the operator yet</span>
                      )}
                      {t.conditions.map((c) => (
                        <span key={c.type} className="cell-note">
                          {c.type}: {c.status} ({c.reason})
                        </span>
                      ))}
                      {actionError?.name === t.name && <Alert>{actionError.text}</Alert>}
                    </td>
                    <td data-label="Sessions">{t.sessionCount}</td>
                    <td data-label="Resources">
                      {t.defaultGPU > 0 ? `${t.defaultGPU} GPU` : 'no GPU'} · {t.defaultMemory} ·{' '}
                      {t.defaultCPU} CPU
                      <span className="cell-note">
                        {[
                          t.maxMemory && `memory ≤ ${t.maxMemory}`,
                          t.maxCPU && `CPU ≤ ${t.maxCPU}`,
                          t.lifetimeMax && `lives ≤ ${t.lifetimeMax}`,
                        ]
                          .filter(Boolean)
                          .join(' · ')}
                      </span>
                    </td>
                    <td data-label="Image" className="mono">
                      {t.image}
                    </td>
                    <td
                      data-label="Image nodes"
                      title={t.prepull?.nodes.length ? `Pulled on ${t.prepull.nodes.join(', ')}` : undefined}
                    >
                      {t.prepull ? `${t.prepull.ready}/${t.prepull.desired}` : '—'}
                    </td>
                    <td className="actions">
                      <button
                        type="button"
                        className="button button-small"
                        disabled={busy !== undefined}
                        onClick={() => {
                          setNotice(undefined);
                          setEditing({ mode: 'edit', template: t });
                        }}
                      >
                        Edit<span className="visually-hidden"> {t.name}</span>
                      </button>
                      <button
                        type="button"
                        className="button button-small"
                        disabled={busy !== undefined}
                        onClick={() => void act(t, t.retired ? 'restore' : 'retire')}
                      >
                        {busy === t.name ? 'Working…' : t.retired ? 'Restore' : 'Retire'}
                        <span className="visually-hidden"> {t.name}</span>
                      </button>
                      <button
                        type="button"
                        className="button button-small button-danger-outline"
                        disabled={busy !== undefined || t.sessionCount > 0}
                        title={
                          t.sessionCount > 0
                            ? `Used by ${sessionCountText(t.sessionCount)}: retire it instead, or delete them first`
                            : undefined
                        }
                        onClick={() => {
                          setDeleteError(undefined);
                          setDeleting(t);
                        }}
                      >
                        Delete<span className="visually-hidden"> {t.name}</span>
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </section>
      <ConfirmDialog
        open={deleting !== undefined}
        title={`Delete ${deleting?.name ?? 'template'}?`}
        confirmLabel="Delete template"
        busy={busy !== undefined}
        onConfirm={() => void confirmDelete()}
        onCancel={() => setDeleting(undefined)}
      >
        <p>
          Nobody can launch it any more and it cannot be restored; create it again to bring it back. Retiring
          keeps it, hidden from users.
        </p>
        {deleteError && <Alert>{deleteError}</Alert>}
      </ConfirmDialog>
    </>
  );
}

/** The form for a new template, or for editing one (the version read is sent along). */
function TemplateEditor({
  editing,
  onSaved,
  onCancel,
}: {
  editing: Editing;
  onSaved(t: AdminTemplate, created: boolean): void;
  onCancel(): void;
}) {
  const { api } = useAuth();
  const mode = editing.mode;
  const original = useMemo(
    () => (editing.mode === 'edit' ? formFromTemplate(editing.template) : emptyTemplateForm()),
    [editing],
  );
  const [form, setForm] = useState<TemplateForm>(original);
  const [problems, setProblems] = useState<Record<string, string>>({});
  const [error, setError] = useState<string>();
  const [saving, setSaving] = useState(false);
  const name = editing.mode === 'edit' ? editing.template.name : form.name?.trim() || 'the template';

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    const found = templateFormProblems(form, mode);
    setProblems(found);
    if (Object.keys(found).length > 0) {
      setError('Some fields need a change: see the notes beside them.');
      return;
    }
    const input = templateInputFromForm(form, mode, original);
    if (editing.mode === 'edit' && Object.keys(input).length === 0) {
      setError('Nothing changed.');
      return;
    }
    setSaving(true);
    try {
      if (editing.mode === 'create') {
        const { createTemplate } = await api.request<CreateTemplateData>(CREATE_TEMPLATE, { input });
        onSaved(createTemplate, true);
      } else {
        const { updateTemplate } = await api.request<UpdateTemplateData>(UPDATE_TEMPLATE, {
          name: editing.template.name,
          input,
          resourceVersion: editing.template.resourceVersion ?? null,
        });
        onSaved(updateTemplate, false);
      }
    } catch (err) {
      setError(explainError(err, { action: mode === 'create' ? `create ${name}` : `save ${name}` }));
      // The API names the first field it refused: mark it too.
      const field = err instanceof ApiError ? err.detail.extensions?.field : undefined;
      if (typeof field === 'string' && field in form) setProblems({ [field]: 'See the message above.' });
    } finally {
      setSaving(false);
    }
  };

  const set = (key: string, value: string) => setForm((f) => ({ ...f, [key]: value }));

  return (
    <form
      className="panel section"
      aria-labelledby="template-form-heading"
      onSubmit={(e) => void submit(e)}
      noValidate
    >
      <h2 id="template-form-heading">{mode === 'create' ? 'New template' : `Edit ${name}`}</h2>
      {mode === 'edit' && (
        <p className="muted">
          New sessions get the new values; running ones keep theirs. Left empty: the default. Home kind and
          size cannot change (the homes of its sessions were made with them).
        </p>
      )}
      {error && <Alert>{error}</Alert>}
      {mode === 'create' && (
        <div style={grid}>
          <Field
            field={{ key: 'name', label: 'Name', kind: 'text', group: 'Shown to users', required: true }}
            value={form.name ?? ''}
            problem={problems.name}
            help="lower-case letters, digits and -, e.g. ubuntu-desktop"
            onChange={(v) => set('name', v)}
          />
        </div>
      )}
      {GROUPS.map((group) => {
        const fields = TEMPLATE_FORM_FIELDS.filter(
          (f) => f.group === group && !(f.createOnly && mode === 'edit'),
        );
        if (fields.length === 0) return null;
        return (
          <fieldset key={group} style={fieldsetStyle}>
            <legend>
              <strong>{group}</strong>
            </legend>
            <div style={grid}>
              {fields.map((f) => (
                <Field
                  key={f.key}
                  field={f}
                  value={form[f.key] ?? ''}
                  problem={problems[f.key]}
                  onChange={(v) => set(f.key, v)}
                />
              ))}
            </div>
          </fieldset>
        );
      })}
      <div className="dialog-actions">
        <button type="button" className="button" onClick={onCancel} disabled={saving}>
          Cancel
        </button>
        <button type="submit" className="button button-primary" disabled={saving}>
          {saving ? 'Saving…' : mode === 'create' ? 'Create template' : 'Save changes'}
        </button>
      </div>
    </form>
  );
}

function Field({
  field: f,
  value,
  problem,
  help,
  onChange,
}: {
  field: FormField;
  value: string;
  problem: string | undefined;
  help?: string;
  onChange(v: string): void;
}) {
  const id = `template-field-${f.key}`;
  const note = problem ?? help ?? f.help ?? (f.defaultText ? `empty: ${f.defaultText}` : undefined);
  const common = {
    id,
    name: f.key,
    value,
    'aria-invalid': problem ? true : undefined,
    'aria-describedby': note ? `${id}-note` : undefined,
    required: f.required,
  };
  return (
    <label htmlFor={id} style={fieldStyle}>
      <span>
        {f.label}
        {f.required ? ' (required)' : ''}
      </span>
      {f.kind === 'choice' ? (
        <select {...common} onChange={(e) => onChange(e.target.value)}>
          <option value="">{f.defaultText ? `default (${f.defaultText})` : 'not set'}</option>
          {f.options?.map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </select>
      ) : (
        <input
          {...common}
          type="text"
          inputMode={f.kind === 'int' ? 'numeric' : undefined}
          autoComplete="off"
          spellCheck={false}
          onChange={(e) => onChange(e.target.value)}
        />
      )}
      {note && (
        <span id={`${id}-note`} className={problem ? 'cell-note notice-error' : 'cell-note'}>
          {note}
        </span>
      )}
    </label>
  );
}
