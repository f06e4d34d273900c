/**
 * The logic behind the session queries and mutations: ownership, validation against the
 * template, quotas, and the writes. A session belongs to the issuer + subject of the token that
 * created it (`spec.owner`, session-spec's owner.ts); `spec.user`, the e-mail, is only shown. An
 * unclaimed session from 0.1.x (no `spec.owner`) belongs to no user: only admins see it until
 * the owner migration (../owners) gives it an owner.
 *
 * Reads come from the watch-backed cache; a name the cache does not know yet (just created
 * elsewhere) is looked up once on the API server. Quota checks are the exception: under the
 * owner's Lease (shared by all replicas) they count the owner's sessions as the API server has
 * them at that moment, because a cache may not show another replica's create of a millisecond ago.
 */
import { Inject, Injectable } from '@nestjs/common';
import {
  API_VERSION,
  isRetired,
  isStopped,
  KIND_SESSION,
  type VDISession,
  type VDISessionSpec,
  withTemplateDefaults,
} from '@vdi/crd-types';
import { KubeApiError, type KubeJsonClient } from '@vdi/kube-client';
import {
  durationSeconds,
  formatDuration,
  LABEL_USER_HASH,
  newSession,
  ownedBy,
  ownerHash,
  resolveSession,
  type SessionOwner,
} from '@vdi/session-spec';
import type { GraphQLError } from 'graphql';
import { API_CONFIG, type ApiConfig } from '../config.js';
import { apiError, badInput, ErrorCode, forbidden, notFound, quoted, toApiError } from '../common/errors.js';
import { ApiCaches } from '../kube/caches.js';
import { pageOf, type Page, type PagePosition } from '../kube/indexes.js';
import { KUBE_CLIENT } from '../kube/tokens.js';
import type { Principal } from '../auth/principal.js';
import { TemplatesService } from '../templates/templates.service.js';
import { UsageService } from '../usage/usage.service.js';
import { templateUsable } from '../templates/template.model.js';
import type { CreateSessionInput } from './create-session.input.js';
import { checkQuota, TooManyWaitingError, usageOf } from './quota.js';
import { LockBusyError, UserLease } from './user-lease.js';
import { generateSessionName, sessionNameProblem } from './session-name.js';
import { assertValidSpec, specFromInput } from './session-spec-input.js';
import { SessionEvents, type SessionEvent } from './session-events.js';

/** How long a create waits for its session to show up in the cache (read-your-writes for `sessions`). */
const CACHE_CATCH_UP_MS = 3_000;

/** The CRD's longest duration (720h): no lifetime may be longer. */
const MAX_LIFETIME_SECONDS = 720 * 3600;

@Injectable()
export class SessionsService {
  private readonly lease: UserLease;

  constructor(
    private readonly caches: ApiCaches,
    private readonly templates: TemplatesService,
    @Inject(KUBE_CLIENT) private readonly kube: KubeJsonClient,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    private readonly events: SessionEvents,
    private readonly budgets: UsageService,
  ) {
    this.lease = new UserLease(kube, {
      namespace: config.sessionsNamespace,
      identity: process.env.HOSTNAME || 'vdi-api',
    });
  }

  /**
   * Changes of the sessions the caller may see: their own; with `name` that session (which must
   * exist and be theirs; any user's for an admin); with `all` (admins only) everyone's. With
   * `current`, first each of those sessions as it is now (CURRENT events), read from the cache
   * and its indexes after the subscription is registered (SessionEvents.subscribe), so a reader
   * that read the state before subscribing misses no change made in between.
   */
  watch(
    p: Principal,
    opts: { name?: string; all?: boolean; current?: boolean },
  ): AsyncIterableIterator<SessionEvent> {
    if (opts.all && !p.isAdmin) {
      throw forbidden("only admins may watch everyone's sessions (sessionUpdated(all: true))");
    }
    const ns = this.config.sessionsNamespace;
    if (opts.name !== undefined && !p.isAdmin) {
      // Like session(name): another user's session does not exist for a user.
      const s = this.caches.sessions.get(opts.name, ns);
      if (!s || !ownedBy(s, p.owner)) throw notFound(`you have no session named '${opts.name}'`);
    }
    return this.events.subscribe(
      (s) =>
        s.metadata.namespace === ns &&
        (opts.name === undefined || s.metadata.name === opts.name) &&
        (ownedBy(s, p.owner) || (p.isAdmin && (opts.all || opts.name !== undefined))),
      opts.current ? () => this.candidates(p, opts) : undefined,
    );
  }

  /**
   * The sessions a subscription's CURRENT events come from, before its filter: one lookup by
   * name, or the same indexes as `list` (the caller's own, or everyone's sorted at most once per
   * change of the cache), so even `all` with thousands of sessions makes no API-server call.
   */
  private candidates(p: Principal, opts: { name?: string; all?: boolean }): readonly VDISession[] {
    if (opts.name !== undefined) {
      const s = this.caches.sessions.get(opts.name, this.config.sessionsNamespace);
      return s ? [s] : [];
    }
    return this.list(p, opts.all);
  }

  private assertReady(): void {
    if (!this.caches.synced)
      throw badInput('the API is still loading sessions and templates; try again in a moment');
  }

  /**
   * The caller's sessions, or everyone's for an admin asking for `all`, by name. From the
   * indexes: the caller's own (kube/indexes.ts SessionsByOwner), or everyone's sorted once per
   * change of the cache.
   */
  list(p: Principal, all = false): VDISession[] {
    if (all && !p.isAdmin) throw forbidden('only admins may list all sessions (sessions(all: true))');
    const idx = this.caches.indexes;
    return all ? idx.sessionsInPageOrder.allByName() : idx.sessionsByOwner.of(p.owner);
  }

  /**
   * A page of the caller's sessions, or of everyone's for an admin asking for `all`: newest
   * first, ties by name, `first` of them after the position `after` (session-page.ts).
   */
  page(p: Principal, opts: { all: boolean; first: number; after?: PagePosition }): Page<VDISession> {
    if (opts.all && !p.isAdmin) {
      throw forbidden('only admins may page through all sessions (sessionPage(all: true))');
    }
    const idx = this.caches.indexes;
    return opts.all
      ? idx.sessionsInPageOrder.page(opts.first, opts.after)
      : pageOf(idx.sessionsByOwner.of(p.owner), opts.first, opts.after);
  }

  /** The session if the caller may see it; NOT_FOUND otherwise (others' sessions do not exist for a user). */
  async get(p: Principal, name: string): Promise<VDISession> {
    const s =
      this.caches.sessions.get(name, this.config.sessionsNamespace) ??
      (sessionNameProblem(name) ? undefined : await this.kube.get<VDISession>(this.ref(name)));
    if (!s || (!ownedBy(s, p.owner) && !p.isAdmin)) {
      throw notFound(`you have no session named '${name}'`);
    }
    return s;
  }

  async create(p: Principal, input: CreateSessionInput): Promise<VDISession> {
    const name = input.name ?? generateSessionName(p.username);
    const context = { template: input.template, name };
    try {
      this.assertReady();
      if (input.name != null) {
        const problem = sessionNameProblem(input.name);
        if (problem) throw badInput(`name: ${quoted(input.name)} ${problem}`, 'name');
      }
      const template = this.templates.get(input.template);
      if (!template) {
        const names = this.templates
          .list()
          .filter((t) => !isRetired(t))
          .map((t) => t.metadata.name);
        throw badInput(
          `there is no template ${quoted(input.template)}${names.length ? `; choose one of: ${names.join(', ')}` : ''}`,
          'template',
        );
      }
      if (isRetired(template)) {
        throw badInput(
          `template '${input.template}' is retired: it takes no new sessions (existing ones keep running); choose another template, or ask an admin to restore it`,
          'template',
        );
      }
      const usable = templateUsable(template);
      if (!usable.usable) {
        throw badInput(
          `template '${input.template}' cannot be used right now: ${usable.message}`,
          'template',
        );
      }
      const templateSpec = withTemplateDefaults(template.spec);
      const spec = specFromInput(input, { user: p.user, owner: p.owner }, templateSpec.display);
      assertValidSpec(spec);
      const effective = resolveSession(spec, templateSpec);
      // The effective GPU count is written into the spec, so quotas never depend on a template
      // default that may change later.
      const pinned: VDISessionSpec = { ...spec, resources: { ...spec.resources, gpu: effective.gpu } };
      const created = await this.lease.run(p.owner, async () => {
        checkQuota(await this.usage(p.owner), effective.gpu, this.config);
        if (effective.gpu > 0) await this.budgets.checkBudget(p, p.owner, p.user);
        return this.write(name, pinned);
      });
      await this.catchUp(created);
      return created;
    } catch (err) {
      if (err instanceof LockBusyError || err instanceof TooManyWaitingError) {
        throw apiError(ErrorCode.Internal, `${err.message}; try again in a moment`);
      }
      throw toApiError(err, context) satisfies GraphQLError;
    }
  }

  /**
   * Moves the end of a session with a lifetime later by `by` (a duration such as 1h), at most to
   * its template's lifetime.max; the operator re-reads the lifetime and updates status.expiresAt.
   * Conditional on the version read, so two extensions at once never lose one.
   */
  async extend(p: Principal, name: string, by: string): Promise<VDISession> {
    await this.get(p, name); // NOT_FOUND for a session the caller may not see
    // Read from the API server, not the cache: an extension just made must count, and the patch
    // is conditional on the version read. A concurrent change makes it read and try again.
    for (let attempt = 1; ; attempt++) {
      const s = await this.kube.get<VDISession>(this.ref(name));
      if (!s || (!ownedBy(s, p.owner) && !p.isAdmin)) throw notFound(`you have no session named '${name}'`);
      try {
        return await this.extendOnce(s, name, by);
      } catch (err) {
        if (!(err instanceof KubeApiError && err.conflict)) throw err;
        if (attempt >= 3) {
          throw apiError(
            ErrorCode.Internal,
            `session '${name}' kept changing while it was extended; try again`,
          );
        }
      }
    }
  }

  private async extendOnce(s: VDISession, name: string, by: string): Promise<VDISession> {
    const context = { template: s.spec.template, name };
    try {
      const template = this.templates.get(s.spec.template);
      if (!template) {
        throw badInput(
          `session '${name}' cannot be extended: its template '${s.spec.template}' is gone`,
          'name',
        );
      }
      const spec = withTemplateDefaults(template.spec);
      const add = durationSeconds(by, 'by');
      const current = resolveSession(s.spec, spec).maxLifetimeSeconds;
      if (current === undefined) {
        throw badInput(`session '${name}' has no lifetime limit: it runs until it is deleted`, 'name');
      }
      const max = Math.min(
        spec.lifetime?.max ? durationSeconds(spec.lifetime.max) : Infinity,
        MAX_LIFETIME_SECONDS,
      );
      if (current >= max) {
        throw badInput(
          `session '${name}' already lives as long as its template allows (${formatDuration(max)})`,
          'by',
        );
      }
      const next = Math.min(current + add, max);
      const patched = await this.kube.mergePatch(this.ref(name), {
        metadata: { resourceVersion: s.metadata.resourceVersion },
        spec: { maxLifetime: formatDuration(next) },
      });
      return patched as unknown as VDISession;
    } catch (err) {
      if (err instanceof KubeApiError && err.conflict) throw err; // read again (extend)
      throw toApiError(err, context) satisfies GraphQLError;
    }
  }

  /**
   * Stops a session: the operator deletes its desktop pod and frees its GPU time-slice; the
   * session keeps its name, URL, home and end. Stopping a stopped session changes nothing.
   */
  async stop(p: Principal, name: string): Promise<VDISession> {
    const s = await this.get(p, name); // NOT_FOUND for a session the caller may not see
    if (s.metadata.deletionTimestamp) throw badInput(`session '${name}' is being deleted`, 'name');
    if (isStopped(s)) return s;
    try {
      return (await this.kube.mergePatch(this.ref(name), {
        metadata: { uid: s.metadata.uid },
        spec: { state: 'Stopped' },
      })) as unknown as VDISession;
    } catch (err) {
      throw toApiError(err, { template: s.spec.template, name });
    }
  }

  /**
   * Resumes a stopped session: a new desktop starts (through the queue when no GPU time-slice is
   * free), within the owner's GPU quota. Resuming a session that is not stopped changes nothing.
   */
  async resume(p: Principal, name: string): Promise<VDISession> {
    const seen = await this.get(p, name); // NOT_FOUND for a session the caller may not see
    const context = { template: seen.spec.template, name };
    try {
      this.assertReady();
      return await this.lease.run(p.owner, async () => {
        // From the API server under the owner's Lease: the quota counts what is there now, and
        // the patch is conditional on the version read.
        const s = await this.kube.get<VDISession>(this.ref(name));
        if (!s || (!ownedBy(s, p.owner) && !p.isAdmin)) throw notFound(`you have no session named '${name}'`);
        if (s.metadata.deletionTimestamp) throw badInput(`session '${name}' is being deleted`, 'name');
        if (!isStopped(s)) return s;
        if (!this.templates.get(s.spec.template)) {
          throw badInput(
            `session '${name}' cannot be resumed: its template '${s.spec.template}' is gone; delete the session`,
            'name',
          );
        }
        const owner = s.spec.owner ?? p.owner;
        checkQuota(await this.usage(owner), this.gpuOf(s), this.config, true);
        if (this.gpuOf(s) > 0) await this.budgets.checkBudget(p, owner, s.spec.user);
        return (await this.kube.mergePatch(this.ref(name), {
          metadata: { resourceVersion: s.metadata.resourceVersion },
          spec: { state: 'Running' },
        })) as unknown as VDISession;
      });
    } catch (err) {
      if (err instanceof LockBusyError || err instanceof TooManyWaitingError) {
        throw apiError(ErrorCode.Internal, `${err.message}; try again in a moment`);
      }
      if (err instanceof KubeApiError && err.conflict) {
        throw apiError(ErrorCode.Internal, `session '${name}' changed while it was resumed; try again`);
      }
      throw toApiError(err, context) satisfies GraphQLError;
    }
  }

  /** Starts deleting the session; the caller must own it (or be an admin). */
  async delete(p: Principal, name: string): Promise<boolean> {
    const s = await this.get(p, name);
    try {
      await this.kube.delete(this.ref(name), { uid: s.metadata.uid! });
      return true;
    } catch (err) {
      throw toApiError(err, { template: s.spec.template, name });
    }
  }

  private ref(name: string) {
    return {
      apiVersion: API_VERSION,
      kind: KIND_SESSION,
      metadata: { name, namespace: this.config.sessionsNamespace },
    };
  }

  private async write(name: string, spec: VDISessionSpec): Promise<VDISession> {
    // With the operator's finalizer from the start (libs/session-spec newSession).
    const body = newSession(name, this.config.sessionsNamespace, spec);
    // POST, not apply: a create must never overwrite an existing session of the same name.
    const path = `${await this.kube.path(this.ref(name), false)}?fieldManager=vdi-api`;
    return this.kube.call<VDISession>('POST', path, body);
  }

  /**
   * The owner's sessions as the API server has them now (called under the owner's Lease): those
   * labelled with the owner's hash and owned by exactly this issuer + subject. Another identity
   * with the same e-mail counts none of them.
   */
  private async usage(owner: SessionOwner) {
    const path =
      `/apis/${API_VERSION}/namespaces/${this.config.sessionsNamespace}/vdisessions` +
      `?labelSelector=${encodeURIComponent(`${LABEL_USER_HASH}=${ownerHash(owner)}`)}`;
    const list = await this.kube.call<{ items: VDISession[] }>('GET', path);
    return usageOf(
      list.items.filter((s) => ownedBy(s, owner)),
      (s) => this.gpuOf(s),
    );
  }

  /** A session's GPU time-slices: granted, asked for, or its template's default. */
  private gpuOf(s: VDISession): number {
    if (s.status?.gpu != null) return s.status.gpu;
    if (s.spec.resources?.gpu != null) return s.spec.resources.gpu;
    const t = this.templates.get(s.spec.template);
    return t ? withTemplateDefaults(t.spec).resources.defaultGPU : 0;
  }

  private async catchUp(created: VDISession): Promise<void> {
    const deadline = Date.now() + CACHE_CATCH_UP_MS;
    while (Date.now() < deadline) {
      const c = this.caches.sessions.get(created.metadata.name!, this.config.sessionsNamespace);
      if (c?.metadata.uid === created.metadata.uid) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
