'use client';
/**
 * The admin page for warm pools (VDIPool): each pool with its template, size and its warm,
 * starting and claimed desktops (re-read every few seconds), whether its template can be pooled
 * and why not, its schedule and current target; a form to create one; Scale, Schedule (a time
 * zone and one window per line) and Delete per pool. The API enforces the admin role,
 * poolability, the size bounds and the cluster's free capacity; its errors are shown as it gives
 * them.
 */
import Link from 'next/link';
import { useState, type FormEvent } from 'react';
import { AdminOnly } from '../../../components/admin/admin-only';
import { useAuth } from '../../../components/auth/auth-provider';
import { Alert } from '../../../components/ui/alert';
import { usePolled } from '../../../components/ui/use-polled';
import { explainError } from '../../../lib/errors';

/** Pools fill and drain as sessions claim desktops: re-read this often. */
const REFRESH_MS = 3_000;

export interface AdminPool {
  name: string;
  template: string;
  size: number;
  warm: number;
  starting: number;
  claimed: number;
  poolable?: boolean | null;
  poolableMessage?: string | null;
  nodeSelector?: string | null;
  gpuProduct?: string | null;
  schedule?: { timeZone: string; windows: PoolWindow[] } | null;
  targetSize?: number | null;
  nextChange?: string | null;
  scheduleMessage?: string | null;
}

export interface PoolWindow {
  days: string[];
  start: string;
  end: string;
  size: number;
}

const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/** Windows as text, one per line: `Mon-Fri 09:00-17:00 5` (days as a range or a comma list). */
export function formatWindows(windows: readonly PoolWindow[]): string {
  return windows
    .map((w) => {
      const idx = w.days.map((d) => DAYS.indexOf(d)).sort((a, b) => a - b);
      const contiguous = idx.length > 2 && idx.every((d, i) => i === 0 || d === idx[i - 1]! + 1);
      const days = contiguous ? `${DAYS[idx[0]!]}-${DAYS[idx[idx.length - 1]!]}` : w.days.join(',');
      return `${days} ${w.start}-${w.end} ${w.size}`;
    })
    .join('\n');
}

/** The text of formatWindows back as windows; throws an Error naming the line that is not one. */
export function parseWindows(text: string): PoolWindow[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((line, i) => {
      const m = /^([A-Za-z,-]+)\s+(\d\d:\d\d)-(\d\d:\d\d)\s+(\d+)$/.exec(line);
      if (!m) throw new Error(`line ${i + 1} ('${line}') is not like 'Mon-Fri 09:00-17:00 5'`);
      const days: string[] = [];
      for (const part of m[1]!.split(',')) {
        const [a, b] = part.split('-');
        const from = DAYS.indexOf(a ?? '');
        const to = b === undefined ? from : DAYS.indexOf(b);
        if (from < 0 || to < 0 || to < from)
          throw new Error(
            `line ${i + 1}: '${part}' is not a day or a range of days (Mon Tue Wed Thu Fri Sat Sun)`,
          );
        for (let d = from; d <= to; d++) if (!days.includes(DAYS[d]!)) days.push(DAYS[d]!);
      }
      return { days, start: m[2]!, end: m[3]!, size: Number(m[4]) };
    });
}

const POOL_FIELDS =
  'name template size warm starting claimed poolable poolableMessage nodeSelector gpuProduct targetSize nextChange scheduleMessage schedule { timeZone windows { days start end size } }';
export const ADMIN_POOLS = `query AdminPools { pools { ${POOL_FIELDS} } templates { name persistence streamingMode retired } }`;
export const CREATE_POOL = `mutation CreatePool($input: CreatePoolInput!) { createPool(input: $input) { ${POOL_FIELDS} } }`;
export const SCALE_POOL = `mutation ScalePool($name: String!, $size: Int!) { scalePool(name: $name, size: $size) { ${POOL_FIELDS} } }`;
export const DELETE_POOL = `mutation DeletePool($name: String!) { deletePool(name: $name) }`;
export const UPDATE_POOL_SCHEDULE = `mutation UpdatePoolSchedule($name: String!, $schedule: PoolScheduleInput) { updatePoolSchedule(name: $name, schedule: $schedule) { ${POOL_FIELDS} } }`;

interface PoolTemplate {
  name: string;
  persistence: string;
  streamingMode: string;
  retired: boolean;
}
interface AdminPoolsData {
  pools: AdminPool[];
  templates: PoolTemplate[];
}

const fieldStyle = { display: 'flex', flexDirection: 'column', gap: '0.25rem' } as const;
const rowStyle = { display: 'flex', gap: '0.75rem', flexWrap: 'wrap', alignItems: 'flex-end' } as const;

export function PoolsAdminView() {
  return (
    <AdminOnly title="Warm pools">
      <Pools />
    </AdminOnly>
  );
}

function Pools() {
  const { api } = useAuth();
  const { value, error, set } = usePolled<AdminPoolsData, AdminPoolsData>(ADMIN_POOLS, (d) => d, {
    intervalMs: REFRESH_MS,
    action: 'read the warm pools',
  });
  const [form, setForm] = useState({ name: '', template: '', size: '2', nodeSelector: '', gpuProduct: '' });
  const [formError, setFormError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [sizes, setSizes] = useState<Record<string, string>>({});
  const [rowError, setRowError] = useState<{ name: string; text: string }>();
  /** The schedule being edited (one pool at a time): its time zone and windows as text. */
  const [editing, setEditing] = useState<{ name: string; timeZone: string; windows: string }>();

  const reload = async () => set(await api.request<AdminPoolsData>(ADMIN_POOLS));
  const poolable = (value?.templates ?? []).filter(
    (t) => t.persistence === 'none' && t.streamingMode === 'websockets' && !t.retired,
  );

  async function create(e: FormEvent) {
    e.preventDefault();
    setFormError(undefined);
    setBusy(true);
    try {
      await api.request(CREATE_POOL, {
        input: {
          name: form.name.trim(),
          template: form.template,
          size: Number(form.size),
          ...(form.nodeSelector.trim() ? { nodeSelector: form.nodeSelector.trim() } : {}),
          ...(form.gpuProduct.trim() ? { gpuProduct: form.gpuProduct.trim() } : {}),
        },
      });
      setForm({ name: '', template: '', size: '2', nodeSelector: '', gpuProduct: '' });
      await reload();
    } catch (err) {
      setFormError(explainError(err, { action: `create pool ${form.name}` }));
    } finally {
      setBusy(false);
    }
  }

  async function scale(p: AdminPool) {
    setRowError(undefined);
    try {
      await api.request(SCALE_POOL, { name: p.name, size: Number(sizes[p.name] ?? p.size) });
      await reload();
    } catch (err) {
      setRowError({ name: p.name, text: explainError(err, { action: `scale ${p.name}` }) });
    }
  }

  async function saveSchedule(e: FormEvent) {
    e.preventDefault();
    if (!editing) return;
    setRowError(undefined);
    try {
      const windows = parseWindows(editing.windows);
      await api.request(UPDATE_POOL_SCHEDULE, {
        name: editing.name,
        schedule: windows.length > 0 ? { timeZone: editing.timeZone.trim() || 'UTC', windows } : null,
      });
      setEditing(undefined);
      await reload();
    } catch (err) {
      setRowError({
        name: editing.name,
        text: explainError(err, { action: `set the schedule of ${editing.name}` }),
      });
    }
  }

  async function remove(p: AdminPool) {
    setRowError(undefined);
    try {
      await api.request(DELETE_POOL, { name: p.name });
      await reload();
    } catch (err) {
      setRowError({ name: p.name, text: explainError(err, { action: `delete ${p.name}` }) });
    }
  }

  return (
    <>
      <div className="page-heading">
        <h1>Warm pools</h1>
        <p className="muted">
          Desktops started before anyone asks: a new session of a pooled template claims a warm one and is
          ready at once; the pool refills. A claimed desktop belongs to its session and is deleted with it,
          never reused. Only templates without a home volume (persistence none) streaming over websockets can
          be pooled. <Link href="/admin">Back to admin</Link>
        </p>
      </div>
      {error && <Alert>{error}</Alert>}
      <section aria-labelledby="pools-heading" className="section">
        <h2 id="pools-heading">Pools</h2>
        {value && value.pools.length === 0 && <p className="panel">No warm pools yet.</p>}
        {value && value.pools.length > 0 && (
          <table className="table">
            <caption className="visually-hidden">Warm pools</caption>
            <thead>
              <tr>
                <th scope="col">Pool</th>
                <th scope="col">Template</th>
                <th scope="col">Size</th>
                <th scope="col">Schedule</th>
                <th scope="col">Target now</th>
                <th scope="col">Warm</th>
                <th scope="col">Starting</th>
                <th scope="col">Claimed</th>
                <th scope="col">Poolable</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {value.pools.map((p) => (
                <tr key={p.name}>
                  <th scope="row">{p.name}</th>
                  <td>
                    {p.template}
                    {p.gpuProduct ? ` · ${p.gpuProduct}` : ''}
                    {p.nodeSelector ? ` · ${p.nodeSelector}` : ''}
                  </td>
                  <td>{p.size}</td>
                  <td>
                    {p.schedule ? (
                      <>
                        <pre style={{ margin: 0 }}>{formatWindows(p.schedule.windows)}</pre>
                        <span className="muted">
                          {p.schedule.timeZone}; otherwise {p.size}
                        </span>
                      </>
                    ) : (
                      <span className="muted">none</span>
                    )}
                    {p.scheduleMessage && <Alert>{p.scheduleMessage}</Alert>}
                  </td>
                  <td>
                    {p.targetSize ?? p.size}
                    {p.nextChange && (
                      <span className="muted"> (changes {new Date(p.nextChange).toLocaleString()})</span>
                    )}
                  </td>
                  <td>{p.warm}</td>
                  <td>{p.starting}</td>
                  <td>{p.claimed}</td>
                  <td>
                    {p.poolable === true && 'yes'}
                    {p.poolable === false && (
                      <span title={p.poolableMessage ?? ''}>no: {p.poolableMessage}</span>
                    )}
                    {p.poolable == null && 'checking…'}
                  </td>
                  <td>
                    <div style={rowStyle}>
                      <label style={fieldStyle}>
                        <span className="visually-hidden">New size of {p.name}</span>
                        <input
                          type="number"
                          min={0}
                          value={sizes[p.name] ?? String(p.size)}
                          onChange={(e) => setSizes({ ...sizes, [p.name]: e.target.value })}
                          style={{ width: '5rem' }}
                        />
                      </label>
                      <button type="button" className="button" onClick={() => void scale(p)}>
                        Scale
                      </button>
                      <button
                        type="button"
                        className="button"
                        onClick={() =>
                          setEditing({
                            name: p.name,
                            timeZone: p.schedule?.timeZone ?? 'UTC',
                            windows: formatWindows(p.schedule?.windows ?? []),
                          })
                        }
                      >
                        Schedule
                      </button>
                      <button type="button" className="button danger" onClick={() => void remove(p)}>
                        Delete
                      </button>
                    </div>
                    {editing?.name === p.name && (
                      <form onSubmit={(e) => void saveSchedule(e)} style={fieldStyle}>
                        <label style={fieldStyle}>
                          Time zone (IANA, e.g. Europe/Berlin)
                          <input
                            value={editing.timeZone}
                            onChange={(e) => setEditing({ ...editing, timeZone: e.target.value })}
                          />
                        </label>
                        <label style={fieldStyle}>
                          Windows, one per line: days start-end size (e.g. Mon-Fri 09:00-17:00 5; an end
                          before the start runs overnight; the largest overlapping size wins). Empty removes
                          the schedule.
                          <textarea
                            rows={4}
                            value={editing.windows}
                            onChange={(e) => setEditing({ ...editing, windows: e.target.value })}
                          />
                        </label>
                        <div style={rowStyle}>
                          <button type="submit" className="button primary">
                            Save schedule
                          </button>
                          <button type="button" className="button" onClick={() => setEditing(undefined)}>
                            Cancel
                          </button>
                        </div>
                      </form>
                    )}
                    {rowError?.name === p.name && <Alert>{rowError.text}</Alert>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section aria-labelledby="create-pool-heading" className="section">
        <h2 id="create-pool-heading">Create a pool</h2>
        <form onSubmit={(e) => void create(e)} className="panel">
          <div style={rowStyle}>
            <label style={fieldStyle}>
              Name
              <input
                required
                value={form.name}
                onChange={(e) => setForm({ ...form, name: e.target.value })}
              />
            </label>
            <label style={fieldStyle}>
              Template
              <select
                required
                value={form.template}
                onChange={(e) => setForm({ ...form, template: e.target.value })}
              >
                <option value="">Choose a poolable template</option>
                {poolable.map((t) => (
                  <option key={t.name} value={t.name}>
                    {t.name}
                  </option>
                ))}
              </select>
            </label>
            <label style={fieldStyle}>
              Size
              <input
                type="number"
                min={0}
                required
                value={form.size}
                onChange={(e) => setForm({ ...form, size: e.target.value })}
                style={{ width: '6rem' }}
              />
            </label>
            <label style={fieldStyle}>
              Node labels (optional, k=v,k2=v2)
              <input
                value={form.nodeSelector}
                onChange={(e) => setForm({ ...form, nodeSelector: e.target.value })}
              />
            </label>
            <label style={fieldStyle}>
              GPU product (optional)
              <input
                value={form.gpuProduct}
                onChange={(e) => setForm({ ...form, gpuProduct: e.target.value })}
              />
            </label>
            <button type="submit" className="button primary" disabled={busy}>
              Create pool
            </button>
          </div>
          {formError && <Alert>{formError}</Alert>}
        </form>
      </section>
    </>
  );
}
