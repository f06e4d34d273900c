/**
 * Templates: every authenticated user reads them (from the watch cache); admins create, edit,
 * retire, restore and delete them. Writes go to the API server, checked first against the CRD's
 * schema and rules (template-spec-input.ts); the API server checks the CRD again, and what it
 * refuses is reported by input field. Nothing is written when anything is wrong.
 *
 * - create: POST, so an existing template of the same name is never overwritten.
 * - update: a JSON merge patch of the fields given, conditional on the version edited (the
 *   `resourceVersion` the admin read, else the one read just before the patch), so a change made
 *   meanwhile (another admin, kubectl) is never silently undone.
 * - retire / restore: `spec.retired`; the template stays readable, its sessions keep running,
 *   createSession refuses new ones.
 * - delete: only while no session uses it (the count of the session cache), with the template's
 *   uid as precondition.
 * A mutation returns once the cache has the change, so a `templates` query right after shows it.
 */
import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  API_VERSION,
  isRetired,
  KIND_TEMPLATE,
  PLURAL_TEMPLATE,
  type VDISession,
  type VDITemplate,
} from '@vdi/crd-types';
import { KubeApiError, type KubeJsonClient } from '@vdi/kube-client';
import { GraphQLError } from 'graphql';
import type { Principal } from '../auth/principal.js';
import { apiError, badInput, ErrorCode, forbidden, notFound, quoted } from '../common/errors.js';
import { ApiCaches } from '../kube/caches.js';
import type { CacheEvent } from '../kube/indexes.js';
import { KUBE_CLIENT } from '../kube/tokens.js';
import { SessionsByTemplate } from './sessions-by-template.js';
import type { CreateTemplateInput, TemplateInput } from './template.input.js';
import {
  applyMergePatch,
  assertValidTemplateSpec,
  kubeCauses,
  pruneEmptyLifetime,
  refuseTemplate,
  specPatchFromInput,
  templateNameProblem,
} from './template-spec-input.js';

/** How long a write waits for the cache to show it (read-your-writes for `templates`). */
const CACHE_CATCH_UP_MS = 3_000;
/** Updates without a version from the caller read and try again this often when raced. */
const UPDATE_ATTEMPTS = 3;

type SpecPatch = Record<string, unknown>;

@Injectable()
export class TemplatesService {
  /** Sessions per template, kept by the session cache's events. */
  readonly sessionsByTemplate = new SessionsByTemplate();
  private readonly log = new Logger('TemplatesService');

  constructor(
    private readonly caches: ApiCaches,
    @Inject(KUBE_CLIENT) private readonly kube: KubeJsonClient,
  ) {
    // Subscribed while Nest builds the providers, before the caches start (ApiCaches.onModuleInit),
    // so the initial list reaches the count too.
    for (const event of ['add', 'update', 'delete'] as const satisfies CacheEvent[]) {
      caches.sessions.on(event, (s: VDISession) => {
        try {
          this.sessionsByTemplate.apply(event, s);
        } catch (err) {
          this.log.error(`session count update failed ${JSON.stringify({ event, err: String(err) })}`);
        }
      });
    }
  }

  list(): VDITemplate[] {
    return [...this.caches.templates.list()].sort((a, b) => a.metadata.name!.localeCompare(b.metadata.name!));
  }

  get(name: string): VDITemplate | undefined {
    return this.caches.templates.get(name);
  }

  sessionCount(name: string): number {
    return this.sessionsByTemplate.count(name);
  }

  /** The template (from the cache); NOT_FOUND naming what exists otherwise. */
  find(name: string): VDITemplate {
    const t = templateNameProblem(name) ? undefined : this.get(name);
    if (!t) throw notFound(`there is no template ${quoted(name)}; \`templates\` lists them`);
    return t;
  }

  async create(p: Principal, input: CreateTemplateInput): Promise<VDITemplate> {
    assertAdmin(p, 'create templates (createTemplate)');
    const name = input.name;
    const problem = templateNameProblem(name);
    if (problem) throw badInput(`name: ${quoted(name)} ${problem}`, 'name');
    const spec = specPatchFromInput(input, 'create', name);
    pruneEmptyLifetime(spec, {});
    assertValidTemplateSpec(name, spec);
    const body = { apiVersion: API_VERSION, kind: KIND_TEMPLATE, metadata: { name }, spec };
    try {
      const created = await this.kube.call<VDITemplate>(
        'POST',
        `/apis/${API_VERSION}/${PLURAL_TEMPLATE}?fieldManager=vdi-api`,
        body,
      );
      await this.catchUp(created);
      return created;
    } catch (err) {
      throw this.writeError(err, name, 'create');
    }
  }

  /**
   * Changes the fields given (a field left out keeps its value; null removes it). With
   * `resourceVersion` (Template.resourceVersion as the admin read it) the change is refused when
   * the template changed since.
   */
  async update(
    p: Principal,
    name: string,
    input: TemplateInput,
    resourceVersion?: string,
  ): Promise<VDITemplate> {
    assertAdmin(p, 'edit templates (updateTemplate)');
    const given = specPatchFromInput(input, 'update', name);
    for (let attempt = 1; ; attempt++) {
      const current = await this.read(name, 'update');
      const version = resourceVersion ?? current.metadata.resourceVersion!;
      if (current.metadata.resourceVersion !== version) throw changedMeanwhile(name);
      if (Object.keys(given).length === 0) return current;
      const patch = structuredClone(given);
      const spec = applyMergePatch(structuredClone(current.spec) as never, patch as never) as SpecPatch;
      pruneEmptyLifetime(spec as never, patch as never);
      assertValidTemplateSpec(name, spec);
      try {
        const updated = (await this.kube.mergePatch(this.ref(name), {
          metadata: { resourceVersion: version },
          spec: patch,
        })) as unknown as VDITemplate;
        await this.catchUp(updated);
        return updated;
      } catch (err) {
        // Raced by another change: without a version from the caller, read and apply again.
        const raced = err instanceof KubeApiError && err.conflict;
        if (raced && resourceVersion === undefined && attempt < UPDATE_ATTEMPTS) continue;
        throw this.writeError(err, name, 'update');
      }
    }
  }

  /** Retires (no new sessions; existing ones keep running) or restores a template. */
  async setRetired(p: Principal, name: string, retired: boolean): Promise<VDITemplate> {
    const op = retired ? 'retireTemplate' : 'restoreTemplate';
    assertAdmin(p, `${retired ? 'retire' : 'restore'} templates (${op})`);
    const current = await this.read(name, retired ? 'retire' : 'restore');
    if (isRetired(current) === retired) return current;
    try {
      const updated = (await this.kube.mergePatch(this.ref(name), {
        metadata: { uid: current.metadata.uid },
        spec: { retired },
      })) as unknown as VDITemplate;
      await this.catchUp(updated);
      return updated;
    } catch (err) {
      throw this.writeError(err, name, retired ? 'retire' : 'restore');
    }
  }

  /** Deletes a template no session uses; refused, with the count, while any does. */
  async delete(p: Principal, name: string): Promise<boolean> {
    assertAdmin(p, 'delete templates (deleteTemplate)');
    const current = await this.read(name, 'delete');
    const n = this.sessionCount(name);
    if (n > 0) {
      throw badInput(
        `template '${name}' is used by ${n} ${n === 1 ? 'session' : 'sessions'}, so it cannot be deleted; retire it to stop new sessions (retireTemplate), or delete its sessions first`,
        'name',
      );
    }
    try {
      const deleted = await this.kube.delete(this.ref(name), { uid: current.metadata.uid! });
      if (!deleted) throw notFound(`template '${name}' is already gone`);
      await this.waitFor(() => this.get(name)?.metadata.uid !== current.metadata.uid);
      return true;
    } catch (err) {
      throw this.writeError(err, name, 'delete');
    }
  }

  /** The template as the API server has it now (its version is what a write is conditional on). */
  private async read(name: string, verb: string): Promise<VDITemplate> {
    // A name that cannot be a template is not looked up (it would become part of the URL).
    const t = templateNameProblem(name) ? undefined : await this.kube.get<VDITemplate>(this.ref(name));
    if (!t) {
      throw notFound(
        `there is no template ${quoted(name)} to ${verb}; check the name in \`templates\`${verb === 'update' ? ', or create it with createTemplate' : ''}`,
      );
    }
    return t;
  }

  private ref(name: string) {
    return { apiVersion: API_VERSION, kind: KIND_TEMPLATE, metadata: { name } };
  }

  /** A write's failure as the client should see it: the template named, and what to do. */
  private writeError(err: unknown, name: string, verb: string): GraphQLError {
    if (err instanceof GraphQLError) return err;
    if (err instanceof KubeApiError) {
      if (err.status === 409 && err.reason === 'AlreadyExists') {
        return badInput(
          `a template named '${name}' already exists; choose another name, or edit it with updateTemplate`,
          'name',
        );
      }
      if (err.status === 409) return changedMeanwhile(name);
      if (err.status === 404)
        return notFound(`template '${name}' is gone (deleted meanwhile); nothing to ${verb}`);
      if (err.status === 422 || err.status === 400) {
        const causes = kubeCauses(err.body);
        return causes.length
          ? refuseTemplate(name, causes)
          : badInput(`template '${name}' was not saved: ${err.message.replace(/^\w+ \S+: /, '')}`);
      }
      if (err.status === 403) {
        return apiError(
          ErrorCode.Internal,
          `the API is not allowed to ${verb} templates in the cluster (its ClusterRole lacks the verb on vditemplates); tell the platform admin`,
        );
      }
      return apiError(
        ErrorCode.Internal,
        `the cluster did not ${verb} template '${name}' (HTTP ${err.status}); try again`,
      );
    }
    this.log.error(`template ${verb} failed ${JSON.stringify({ name, err: String(err) })}`);
    return apiError(
      ErrorCode.Internal,
      `could not ${verb} template '${name}'; try again or tell the platform admin`,
    );
  }

  private catchUp(written: VDITemplate): Promise<void> {
    const { name, resourceVersion } = written.metadata;
    return this.waitFor(() => this.get(name!)?.metadata.resourceVersion === resourceVersion);
  }

  private async waitFor(done: () => boolean): Promise<void> {
    const deadline = Date.now() + CACHE_CATCH_UP_MS;
    while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }
}

function assertAdmin(p: Principal, what: string): void {
  if (!p.isAdmin) throw forbidden(`only platform admins may ${what}; ask one to make the change`);
}

const changedMeanwhile = (name: string) =>
  apiError(
    ErrorCode.BadUserInput,
    `template '${name}' was changed by someone else since you read it; reload it and make your change again`,
    { field: 'resourceVersion' },
  );
