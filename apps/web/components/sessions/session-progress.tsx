'use client';
/**
 * One session's launch progress, live: the four steps, the headline and the reason in words while
 * it waits or after a failure, and — once it is Running — the redirect into the desktop. The
 * redirect is automatic when this page saw the session become ready (or it was just launched);
 * a visit to an already running session offers a button instead, so Back from the desktop does not
 * bounce straight into it again.
 */
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useCallback, useEffect, useRef, useState } from 'react';
import { subscribeLive, type LiveStatus } from '../../lib/api/live';
import { ChangesSinceRead } from '../../lib/api/live-merge';
import {
  SESSION,
  SESSION_UPDATED,
  type SessionData,
  type SessionUpdatedData,
} from '../../lib/api/operations';
import type { Session } from '../../lib/api/types';
import { formatAge, formatTimeLeft } from '../../lib/age';
import { ApiError } from '../../lib/api/graphql';
import { explainError } from '../../lib/errors';
import { rereadsWhileOpen, sessionProgress, type StepState } from '../../lib/progress';
import { formatAfter, queueWords, sessionTimeline } from '../../lib/timeline';
import { sessionWarnings } from '../../lib/warnings';
import { useAuth } from '../auth/auth-provider';
import { SharePanel } from '../shares/share-panel';
import { Alert } from '../ui/alert';
import { useNow } from '../ui/use-now';
import { PhaseBadge } from './phase-badge';
import { useDeleteSession } from './delete-session';
import { useOpenSession } from './use-open-session';
import { useSessionActions } from './use-session-actions';

/** How often a waiting session's page re-reads its place in the queue. */
const QUEUE_POLL_MS = 5_000;

const STEP_WORDS: Record<StepState, string> = {
  done: 'done',
  current: 'in progress',
  waiting: 'waiting',
  failed: 'failed',
  todo: 'not yet',
};
const STEP_MARKS: Record<StepState, string> = {
  done: '✓',
  current: '…',
  waiting: '!',
  failed: '✕',
  todo: '',
};

export function SessionProgress({ name, launched }: { name: string; launched: boolean }) {
  const { api, user } = useAuth();
  const router = useRouter();
  const now = useNow(15_000);
  const [session, setSession] = useState<Session>();
  const [gone, setGone] = useState(false);
  const [error, setError] = useState<string>();
  const [live, setLive] = useState<LiveStatus>('connecting');
  const firstPhase = useRef<string | undefined>(undefined);
  const changes = useRef(new ChangesSinceRead());
  const autoOpened = useRef(false);
  const { open, opening, error: openError } = useOpenSession();
  const del = useDeleteSession(() => router.push('/sessions'));
  const actions = useSessionActions();

  const see = useCallback((s: Session) => {
    firstPhase.current ??= s.phase;
    setSession(s);
  }, []);

  const read = useCallback(async () => {
    const since = changes.current.begin();
    try {
      const { session: s } = await api.request<SessionData>(SESSION, { name });
      // An event that arrived while the query was on its way is as new as its answer or newer.
      if (since().size === 0) see(s);
      setError(undefined);
    } catch (err) {
      since();
      if (err instanceof ApiError && err.code === 'NOT_FOUND') setGone(true);
      else setError(explainError(err, { action: 'read the session', session: name }));
    }
  }, [api, name, see]);

  useEffect(() => {
    // The read paints first; the subscription starts with the session as it is then (CURRENT,
    // current: true), so a change between the read and the subscription is not missed.
    const stop = subscribeLive<SessionUpdatedData>(
      { url: api.wsUrl, token: api.token, query: SESSION_UPDATED, variables: { name } },
      {
        next: ({ sessionUpdated }) => {
          changes.current.record(sessionUpdated);
          const { type, session: s } = sessionUpdated;
          if (type === 'DELETED') setGone(true);
          else see(s);
        },
        status: setLive,
        resync: () => void read(),
        error: (err) => setError(explainError(err, { action: 'follow the session live', session: name })),
      },
    );
    void read();
    return stop;
  }, [api, name, read, see]);

  // While it waits or starts, read it again every few seconds (rereadsWhileOpen says why).
  const waiting = rereadsWhileOpen(session);
  useEffect(() => {
    if (!waiting) return;
    const timer = setInterval(() => void read(), QUEUE_POLL_MS);
    return () => clearInterval(timer);
  }, [waiting, read]);

  const running = session?.phase === 'Running' && !session.deleting;
  const ownSession =
    session?.owner != null &&
    user?.owner !== undefined &&
    session.owner.issuer === user.owner.issuer &&
    session.owner.subject === user.owner.subject;
  // A session that ends soon (or is about to be stopped for nobody watching it) is not opened
  // by itself: the page says so first, with Extend and Open.
  const warnings = session ? sessionWarnings([session], now) : [];
  const warned = warnings.length > 0;
  useEffect(() => {
    if (!running || autoOpened.current || warned) return;
    if (launched || firstPhase.current !== 'Running') {
      autoOpened.current = true;
      // Drop ?launched from this page's URL first, so Back from the desktop stays here.
      void open(name, () => window.history.replaceState(window.history.state, '', window.location.pathname));
    }
  }, [running, launched, name, open, warned]);

  if (gone) {
    return (
      <>
        <h1>Session {name}</h1>
        <Alert>
          {session
            ? `The session “${name}” has been deleted.`
            : `You have no session named “${name}”. It may have been deleted, or it belongs to someone else.`}
        </Alert>
        <p>
          <Link href="/">Launch a desktop</Link> or see <Link href="/sessions">your sessions</Link>.
        </p>
      </>
    );
  }

  const progress = session ? sessionProgress(session) : undefined;
  const timeline = session && session.state !== 'Stopped' ? sessionTimeline(session) : [];
  return (
    <>
      <div className="page-heading">
        <h1>
          Session <span className="mono">{name}</span>
        </h1>
        {session && (
          <p className="muted">
            {session.template} · <PhaseBadge phase={session.phase} /> · started{' '}
            {formatAge(session.createdAt, now)} ago
            {session.expiresAt && !session.deleting && (
              <>
                {' '}
                · ends{' '}
                <time dateTime={session.expiresAt} title={session.expiresAt}>
                  {formatTimeLeft(session.expiresAt, now)}
                </time>
              </>
            )}
          </p>
        )}
      </div>
      {error && <Alert>{error}</Alert>}
      {!session && !error && (
        <p className="muted" role="status">
          Reading the session…
        </p>
      )}
      {progress && (
        <section className={`panel progress tone-${progress.tone}`} aria-labelledby="progress-heading">
          <div role="status" aria-live="polite" aria-atomic="true" className="progress-status">
            <h2 id="progress-heading" className="progress-headline">
              {progress.headline}
            </h2>
            {progress.explanation && <p className="progress-explanation">{progress.explanation}</p>}
            {queueWords(session?.queuePosition) && (
              <p className="progress-queue" data-queue-position={session?.queuePosition ?? undefined}>
                {queueWords(session?.queuePosition)}
              </p>
            )}
            {progress.detail && <p className="progress-detail">Details: {progress.detail}</p>}
            {running && opening === name && <p className="progress-explanation">Opening your desktop…</p>}
          </div>
          <ol className="steps" aria-label="Launch progress">
            {progress.steps.map((step) => (
              <li
                key={step.id}
                className={`step step-${step.state}`}
                data-step={step.id}
                data-state={step.state}
                aria-current={step.state === 'current' || step.state === 'waiting' ? 'step' : undefined}
              >
                <span className="step-mark" aria-hidden="true">
                  {STEP_MARKS[step.state]}
                </span>
                <span className="step-label">{step.label}</span>
                <span className="visually-hidden"> ({STEP_WORDS[step.state]})</span>
              </li>
            ))}
          </ol>
          {timeline.length > 0 && (
            <ol className="timeline" aria-label="Timings">
              {timeline.map((e) => (
                <li key={e.id} data-timing={e.id}>
                  <span className="timeline-label">{e.label}</span>{' '}
                  <time className="timeline-at muted" dateTime={e.at} title={e.at}>
                    {formatAfter(e.after)}
                  </time>
                </li>
              ))}
            </ol>
          )}
          {session?.startPath === 'Pool' && (
            <p className="muted" data-start-path="Pool">
              Started from a warm pool: a desktop already running was given to this session.
            </p>
          )}
          {openError && <Alert>{openError.text}</Alert>}
          {actions.error && <Alert>{actions.error}</Alert>}
          {warnings.map((w) => (
            <Alert key={w.key} tone="warning">
              {w.text}
            </Alert>
          ))}
          <div className="progress-actions">
            {running && (
              <button
                type="button"
                className="button button-primary"
                disabled={opening !== undefined}
                onClick={() => void open(name)}
              >
                {opening === name ? 'Opening…' : 'Open desktop'}
              </button>
            )}
            {session?.expiresAt && !session.deleting && session.phase !== 'Failed' && (
              <button type="button" className="button" onClick={() => void actions.extend(name)}>
                Extend by an hour
              </button>
            )}
            {session && !session.deleting && session.state === 'Stopped' && (
              <button
                type="button"
                className="button button-primary"
                onClick={() => void actions.resume(name)}
              >
                Resume
              </button>
            )}
            {session && !session.deleting && session.state !== 'Stopped' && (
              <button type="button" className="button" onClick={() => void actions.stop(name)}>
                Stop
              </button>
            )}
            {session && !session.deleting && (
              <button type="button" className="button button-danger-outline" onClick={() => del.ask(session)}>
                Delete session
              </button>
            )}
            <Link href="/sessions" className="button button-link">
              All my sessions
            </Link>
          </div>
          <p className="live-note muted" aria-live="polite">
            {live === 'live'
              ? 'Live: this page updates by itself.'
              : live === 'reconnecting'
                ? 'Live updates paused; reconnecting…'
                : 'Connecting for live updates…'}
          </p>
        </section>
      )}
      {/* Only the owner shares (an admin looking at someone's session does not). */}
      {session && !session.deleting && ownSession && <SharePanel session={name} />}
      {del.dialog}
    </>
  );
}
