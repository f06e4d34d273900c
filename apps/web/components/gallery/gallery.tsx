'use client';
/**
 * The template gallery: every desktop kind with its name, description, icon and whether it has a
 * GPU. While no time-slice is free, a GPU template's button says its launch is queued, with the
 * reason (the session waits and starts by itself; its page shows the place in the queue); the
 * capacity is re-read every few seconds. Launching creates the session and goes to its progress
 * page. A retired template is not offered: users do not see it, admins see it marked and cannot
 * launch it.
 */
import { useRouter } from 'next/navigation';
import { useCallback, useEffect, useState } from 'react';
import {
  CAPACITY,
  CREATE_SESSION,
  USAGE,
  type CapacityData,
  type CreateSessionData,
  type UsageData,
} from '../../lib/api/operations';
import { TEMPLATE_GALLERY, type GalleryTemplate, type TemplateGalleryData } from '../../lib/api/templates';
import type { GpuUsage } from '../../lib/api/types';
import { capacitySummary, isGpuTemplate } from '../../lib/availability';
import { galleryTemplates, launchAvailability } from '../../lib/template-form';
import { explainError } from '../../lib/errors';
import { usageSummary } from '../../lib/usage';
import { useAuth } from '../auth/auth-provider';
import { Alert } from '../ui/alert';

const CAPACITY_REFRESH_MS = 5_000;

export function Gallery() {
  const { api, user } = useAuth();
  const router = useRouter();
  const [data, setData] = useState<TemplateGalleryData>();
  const [loadError, setLoadError] = useState<string>();
  const [launching, setLaunching] = useState<string>();
  const [launchError, setLaunchError] = useState<{ template: string; text: string }>();
  const [usage, setUsage] = useState<GpuUsage>();

  const load = useCallback(async () => {
    // GPU usage is a line of its own: the gallery works without it.
    void api
      .request<UsageData>(USAGE)
      .then((d) => setUsage(d.usage))
      .catch(() => setUsage(undefined));
    try {
      setData(await api.request<TemplateGalleryData>(TEMPLATE_GALLERY));
      setLoadError(undefined);
    } catch (err) {
      setLoadError(explainError(err, { action: 'load the desktop templates' }));
    }
  }, [api]);

  useEffect(() => {
    void load();
  }, [load]);

  // Capacity changes as others start and end desktops: keep it current while the page is visible.
  useEffect(() => {
    const refresh = async () => {
      if (document.visibilityState !== 'visible') return;
      try {
        const { capacity } = await api.request<CapacityData>(CAPACITY);
        setData((d) => (d ? { ...d, capacity } : d));
      } catch {
        // The next round tries again; the last known capacity stays on screen meanwhile.
      }
    };
    const timer = setInterval(refresh, CAPACITY_REFRESH_MS);
    document.addEventListener('visibilitychange', refresh);
    return () => {
      clearInterval(timer);
      document.removeEventListener('visibilitychange', refresh);
    };
  }, [api]);

  const launch = async (t: GalleryTemplate) => {
    setLaunching(t.name);
    setLaunchError(undefined);
    try {
      const { createSession } = await api.request<CreateSessionData>(CREATE_SESSION, {
        input: { template: t.name },
      });
      router.push(`/sessions/${encodeURIComponent(createSession.name)}?launched=1`);
    } catch (err) {
      setLaunchError({ template: t.name, text: explainError(err, { action: `launch ${t.displayName}` }) });
      setLaunching(undefined);
      void load();
    }
  };

  // Retired templates take no new sessions: users are not offered them; admins see them marked.
  const shown = data && galleryTemplates(data.templates, user?.isAdmin ?? false);

  return (
    <>
      <div className="page-heading">
        <h1>Desktops</h1>
        <p className="muted" aria-live="polite">
          {data
            ? `Pick a desktop to launch. ${capacitySummary(data.capacity)}.`
            : 'Pick a desktop to launch.'}
        </p>
      </div>
      {usage && (
        <p
          className={usage.exhausted ? 'notice notice-warning' : 'muted'}
          data-usage={usage.exhausted ? 'exhausted' : 'ok'}
          aria-live="polite"
        >
          {usageSummary(usage)}
        </p>
      )}
      {loadError && <Alert>{loadError}</Alert>}
      {!data && !loadError && (
        <p className="muted" role="status">
          Loading the desktops…
        </p>
      )}
      {shown && shown.length === 0 && (
        <p className="panel">There are no desktop templates yet. An admin has to add one.</p>
      )}
      {data && shown && shown.length > 0 && (
        <ul className="template-grid" aria-label="Desktop templates">
          {shown.map((t) => (
            <TemplateCard
              key={t.name}
              template={t}
              availability={launchAvailability(t, data.capacity)}
              launching={launching === t.name}
              busy={launching !== undefined}
              error={launchError?.template === t.name ? launchError.text : undefined}
              onLaunch={() => void launch(t)}
            />
          ))}
        </ul>
      )}
    </>
  );
}

function TemplateCard({
  template: t,
  availability,
  launching,
  busy,
  error,
  onLaunch,
}: {
  template: GalleryTemplate;
  availability: ReturnType<typeof launchAvailability>;
  launching: boolean;
  busy: boolean;
  error: string | undefined;
  onLaunch(): void;
}) {
  const id = `template-${t.name}`;
  const gpu = isGpuTemplate(t);
  const disabled = !availability.available || busy;
  const queued = availability.available ? availability.queued : undefined;
  return (
    <li
      className={`card template-card${availability.available ? '' : ' is-unavailable'}`}
      data-template={t.name}
    >
      <div className="template-head">
        {t.icon ? (
          // A plain <img>: icons are arbitrary URLs or data: URLs from templates, nothing to optimise.
          <img className="template-icon" src={t.icon} alt="" width={48} height={48} />
        ) : (
          <span className="template-icon template-icon-fallback" aria-hidden="true">
            {t.displayName.slice(0, 1).toUpperCase()}
          </span>
        )}
        <div>
          <h2 id={`${id}-name`} className="template-name">
            {t.displayName}
          </h2>
          <span className={`badge ${gpu ? 'badge-gpu' : 'badge-cpu'}`}>{gpu ? 'GPU' : 'CPU only'}</span>
        </div>
      </div>
      {t.description && <p className="template-description">{t.description}</p>}
      {!availability.available && (
        <p id={`${id}-reason`} className="template-reason">
          <span className="visually-hidden">Unavailable: </span>
          {availability.reason}
        </p>
      )}
      {queued && (
        <p id={`${id}-reason`} className="template-reason template-queued">
          {queued}
        </p>
      )}
      {error && <Alert>{error}</Alert>}
      <button
        type="button"
        className="button button-primary template-launch"
        aria-disabled={disabled}
        aria-describedby={availability.available && !queued ? undefined : `${id}-reason`}
        aria-label={`Launch ${t.displayName}${queued ? ' (queued)' : ''}`}
        onClick={() => {
          if (!disabled) onLaunch();
        }}
      >
        {launching ? 'Launching…' : queued ? 'Launch (queued)' : 'Launch'}
      </button>
    </li>
  );
}
