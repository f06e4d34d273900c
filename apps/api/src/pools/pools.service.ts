/**
 * Warm pools (VDIPool) for admins: list, create, scale, delete. Every write is checked first, and
 * nothing is written when anything is wrong: the template must exist and be poolable
 * (libs/session-spec poolability: persistence none, websockets), the size must be within 0 and
 * POOL_SIZE_MAX, and the desktops the size adds must fit in the cluster's free capacity where the
 * pool's desktops may run (CPU, memory and GPU time-slices of the eligible nodes, less what the
 * platform's pods there request). The operator then fills or trims the pool.
 *
 * Pools are read from the API server (admins only, a handful of objects), not a cache.
 */
import { Inject, Injectable } from '@nestjs/common';
import type * as k8s from '@kubernetes/client-node';
import {
  API_VERSION,
  DNS1123_SUBDOMAIN,
  KIND_POOL,
  PLURAL_POOL,
  POOL_DAYS,
  POOL_END_PATTERN,
  POOL_SIZE_MAX,
  POOL_TIME_PATTERN,
  POOL_WINDOWS_MAX,
  type PoolSchedule,
  type VDIPool,
  type VDITemplate,
} from '@vdi/crd-types';
import { KubeApiError, type KubeJsonClient } from '@vdi/kube-client';
import {
  LABEL_CLAIMED_BY,
  LABEL_POOL,
  cpuMillis,
  eligible,
  parseQuantity,
  poolScheduleErrors,
  poolTemplate,
  poolability,
  resolveSession,
  sessionPlacement,
} from '@vdi/session-spec';
import type { Principal } from '../auth/principal.js';
import { badInput, forbidden, notFound, quoted } from '../common/errors.js';
import { API_CONFIG, type ApiConfig } from '../config.js';
import { ApiCaches } from '../kube/caches.js';
import { KUBE_CLIENT } from '../kube/tokens.js';

export interface PoolScheduleIn {
  timeZone?: string | null;
  windows: { days: string[]; start: string; end: string; size: number }[];
}

/**
 * A schedule as the CRD takes it, or BAD_USER_INPUT naming the field and the fix: days of
 * Mon..Sun, HH:MM times (end 24:00 allowed; an end before the start is an overnight window; an
 * end equal to the start is refused), sizes from 0 to POOL_SIZE_MAX, an IANA time zone.
 */
export function checkSchedule(input: PoolScheduleIn): PoolSchedule {
  if (input.windows.length > POOL_WINDOWS_MAX)
    throw badInput(
      `schedule.windows: ${input.windows.length} windows; at most ${POOL_WINDOWS_MAX}`,
      'schedule',
    );
  const windows = input.windows.map((w, i) => {
    const at = `schedule.windows[${i}]`;
    const days = [...new Set(w.days)];
    const bad = days.filter((d) => !(POOL_DAYS as readonly string[]).includes(d));
    if (days.length === 0 || bad.length > 0)
      throw badInput(
        `${at}.days: ${bad.length ? bad.map(quoted).join(', ') + ' is not a day' : 'no day given'}; use ${POOL_DAYS.join(' ')}`,
        'schedule',
      );
    if (!new RegExp(POOL_TIME_PATTERN).test(w.start))
      throw badInput(`${at}.start: ${quoted(w.start)} is not a time HH:MM from 00:00 to 23:59`, 'schedule');
    if (!new RegExp(POOL_END_PATTERN).test(w.end))
      throw badInput(`${at}.end: ${quoted(w.end)} is not a time HH:MM from 00:00 to 24:00`, 'schedule');
    if (w.start === w.end)
      throw badInput(
        `${at}: starts and ends at ${w.start}; give an end after the start (or before it for an overnight window)`,
        'schedule',
      );
    if (!Number.isInteger(w.size) || w.size < 0 || w.size > POOL_SIZE_MAX)
      throw badInput(`${at}.size: ${w.size} is not a whole number from 0 to ${POOL_SIZE_MAX}`, 'schedule');
    return {
      days: days as PoolSchedule['windows'][number]['days'],
      start: w.start,
      end: w.end,
      size: w.size,
    };
  });
  const schedule: PoolSchedule = { ...(input.timeZone ? { timeZone: input.timeZone } : {}), windows };
  const [err] = poolScheduleErrors(schedule);
  if (err) throw badInput(err.message, 'schedule');
  return schedule;
}

/** The most warm desktops a pool may keep at any time: its size or its largest window's. */
export function largestSize(size: number, schedule: PoolSchedule | undefined): number {
  return Math.max(size, ...(schedule?.windows.map((w) => w.size) ?? []));
}

export interface PoolPlacementInput {
  nodeSelector?: Record<string, string>;
  gpuProduct?: string;
}

/** `k=v,k2=v2` as a map; undefined for empty input; throws BAD_USER_INPUT naming the bad pair. */
export function parseNodeSelector(text: string | undefined | null): Record<string, string> | undefined {
  if (!text || !text.trim()) return undefined;
  const out: Record<string, string> = {};
  for (const pair of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = /^([A-Za-z0-9./_-]{1,316})=([A-Za-z0-9._-]{0,63})$/.exec(pair);
    if (!m) throw badInput(`nodeSelector: ${quoted(pair)} is not a label key=value pair`, 'nodeSelector');
    out[m[1]!] = m[2]!;
  }
  return out;
}

/** How many more pods of (cpu millis, memory bytes, GPU slices) fit on these nodes, given their pods. */
export function podsThatFit(
  nodes: readonly k8s.V1Node[],
  pods: readonly k8s.V1Pod[],
  need: { cpuMillis: number; memoryBytes: number; gpu: number },
  gpuResource: string,
): number {
  let total = 0;
  for (const n of nodes) {
    const name = n.metadata?.name;
    const alloc = n.status?.allocatable ?? {};
    let cpu = alloc.cpu ? cpuMillis(alloc.cpu) : 0;
    let mem = alloc.memory ? parseQuantity(alloc.memory) : 0;
    let gpu = alloc[gpuResource] ? Number(alloc[gpuResource]) : 0;
    for (const p of pods) {
      if (p.spec?.nodeName !== name || p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed')
        continue;
      for (const c of p.spec?.containers ?? []) {
        const req = c.resources?.requests ?? {};
        if (req.cpu) cpu -= cpuMillis(req.cpu);
        if (req.memory) mem -= parseQuantity(req.memory);
        const g = c.resources?.limits?.[gpuResource] ?? req[gpuResource];
        if (g) gpu -= Number(g);
      }
    }
    let fit = Math.min(
      need.cpuMillis > 0 ? Math.floor(cpu / need.cpuMillis) : Infinity,
      need.memoryBytes > 0 ? Math.floor(mem / need.memoryBytes) : Infinity,
    );
    if (need.gpu > 0) fit = Math.min(fit, Math.floor(gpu / need.gpu));
    if (Number.isFinite(fit)) total += Math.max(0, fit);
  }
  return total;
}

/** What a capacity error names: the size, or the schedule window that needs the most room. */
function capacityWhat(size: number, schedule: PoolSchedule | undefined): string {
  const most = largestSize(size, schedule);
  if (most === size) return `size: ${size}`;
  const i = schedule!.windows.findIndex((w) => w.size === most);
  return `schedule.windows[${i}].size: ${most}`;
}

function assertAdmin(p: Principal, what: string): void {
  if (!p.isAdmin) throw forbidden(`only platform admins may ${what}; ask one to make the change`);
}

@Injectable()
export class PoolsService {
  constructor(
    private readonly caches: ApiCaches,
    @Inject(KUBE_CLIENT) private readonly kube: KubeJsonClient,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  private get ns(): string {
    return this.config.sessionsNamespace;
  }

  private path(name?: string): string {
    const base = `/apis/${API_VERSION}/namespaces/${this.ns}/${PLURAL_POOL}`;
    return name ? `${base}/${name}` : base;
  }

  async list(p: Principal): Promise<VDIPool[]> {
    assertAdmin(p, 'see warm pools (pools)');
    const r = await this.kube.call<{ items: VDIPool[] }>('GET', this.path());
    return r.items.sort((a, b) => a.metadata.name!.localeCompare(b.metadata.name!));
  }

  private async read(name: string, verb: string): Promise<VDIPool> {
    const pool =
      new RegExp(DNS1123_SUBDOMAIN).test(name) && name.length <= 253
        ? await this.kube.call<VDIPool>('GET', this.path(name)).catch((err: unknown) => {
            if (err instanceof KubeApiError && err.notFound) return undefined;
            throw err;
          })
        : undefined;
    if (!pool) throw notFound(`there is no pool ${quoted(name)} to ${verb}; \`pools\` lists them`);
    return pool;
  }

  /** The template, poolable; BAD_USER_INPUT saying why not otherwise. */
  private poolableTemplate(name: string): VDITemplate {
    const template = this.caches.templates.get(name);
    if (!template)
      throw badInput(`there is no template ${quoted(name)}; \`templates\` lists them`, 'template');
    const verdict = poolability(template, name);
    if (!verdict.poolable)
      throw badInput(`template ${quoted(name)} cannot be pooled: ${verdict.message}`, 'template');
    return template;
  }

  private checkSize(size: number): void {
    if (!Number.isInteger(size) || size < 0 || size > POOL_SIZE_MAX)
      throw badInput(`size: ${size} is not a whole number from 0 to ${POOL_SIZE_MAX}`, 'size');
  }

  /**
   * Refuses a size whose added desktops do not fit in the free capacity where the pool's desktops
   * may run. `have`: the pool's unclaimed pods now (they already hold their place).
   */
  private checkCapacity(
    pool: VDIPool,
    template: VDITemplate,
    size: number,
    have: number,
    what = `size: ${size}`,
  ): void {
    const add = size - have;
    if (add <= 0) return;
    const t = poolTemplate(pool, template);
    const eff = resolveSession({ user: 'pool', template: template.metadata.name! }, structuredClone(t.spec));
    const placement =
      eff.gpu > 0
        ? sessionPlacement(t)
        : { nodeSelector: t.spec.nodeSelector ?? {}, tolerations: t.spec.tolerations ?? [] };
    const nodes = this.caches.nodes.list().filter((n) => !n.spec?.unschedulable && eligible(n, placement));
    const fit = podsThatFit(
      nodes,
      this.caches.pods.list(this.ns),
      { cpuMillis: cpuMillis(eff.cpu), memoryBytes: parseQuantity(eff.memory), gpu: eff.gpu },
      this.config.gpuResourceName,
    );
    if (add > fit) {
      throw badInput(
        `${what} warm desktops of template '${template.metadata.name}' need room for ${add} more (${eff.cpu} CPU, ${eff.memory}${eff.gpu ? ', 1 GPU time-slice' : ''} each), but the nodes they may run on have room for ${fit} now; choose a size of at most ${have + fit}, or add nodes`,
        'size',
      );
    }
  }

  private unclaimedCount(pool: string): number {
    return this.caches.pods
      .list(this.ns)
      .filter(
        (p) =>
          p.metadata?.labels?.[LABEL_POOL] === pool &&
          !p.metadata.labels[LABEL_CLAIMED_BY] &&
          !p.metadata.deletionTimestamp,
      ).length;
  }

  async create(
    p: Principal,
    name: string,
    template: string,
    size: number,
    placement: PoolPlacementInput,
    scheduleIn?: PoolScheduleIn | null,
  ): Promise<VDIPool> {
    assertAdmin(p, 'create warm pools (createPool)');
    if (!new RegExp(DNS1123_SUBDOMAIN).test(name) || name.length > 253)
      throw badInput(`name: ${quoted(name)} must be a DNS-1123 name (a-z, 0-9, '-', '.')`, 'name');
    this.checkSize(size);
    const schedule = scheduleIn ? checkSchedule(scheduleIn) : undefined;
    const t = this.poolableTemplate(template);
    const spec = {
      template,
      size,
      ...(schedule ? { schedule } : {}),
      ...(placement.nodeSelector || placement.gpuProduct
        ? {
            placement: {
              ...(placement.nodeSelector ? { nodeSelector: placement.nodeSelector } : {}),
              ...(placement.gpuProduct ? { gpuProduct: placement.gpuProduct } : {}),
            },
          }
        : {}),
    };
    const body: VDIPool = { apiVersion: API_VERSION, kind: KIND_POOL, metadata: { name }, spec };
    this.checkCapacity(body, t, largestSize(size, schedule), 0, capacityWhat(size, schedule));
    try {
      return await this.kube.call<VDIPool>('POST', `${this.path()}?fieldManager=vdi-api`, body);
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 409)
        throw badInput(
          `a pool named ${quoted(name)} already exists; scale it (scalePool) or choose another name`,
          'name',
        );
      if (err instanceof KubeApiError && err.status === 422)
        throw badInput(`pool ${quoted(name)}: ${err.message}`);
      throw err;
    }
  }

  async scale(p: Principal, name: string, size: number): Promise<VDIPool> {
    assertAdmin(p, 'scale warm pools (scalePool)');
    this.checkSize(size);
    const pool = await this.read(name, 'scale');
    const t = this.poolableTemplate(pool.spec.template);
    const most = largestSize(size, pool.spec.schedule);
    this.checkCapacity(pool, t, most, this.unclaimedCount(name), capacityWhat(size, pool.spec.schedule));
    return this.kube.call<VDIPool>(
      'PATCH',
      `${this.path(name)}?fieldManager=vdi-api`,
      { metadata: { resourceVersion: pool.metadata.resourceVersion }, spec: { size } },
      'application/merge-patch+json',
    );
  }

  /** Sets (or with null removes) a pool's schedule; its largest window must fit like a size. */
  async setSchedule(p: Principal, name: string, scheduleIn: PoolScheduleIn | null): Promise<VDIPool> {
    assertAdmin(p, 'change warm pool schedules (updatePoolSchedule)');
    const schedule = scheduleIn ? checkSchedule(scheduleIn) : undefined;
    const pool = await this.read(name, 'schedule');
    const t = this.poolableTemplate(pool.spec.template);
    this.checkCapacity(
      pool,
      t,
      largestSize(pool.spec.size, schedule),
      this.unclaimedCount(name),
      capacityWhat(pool.spec.size, schedule),
    );
    return this.kube.call<VDIPool>(
      'PATCH',
      `${this.path(name)}?fieldManager=vdi-api`,
      {
        metadata: { resourceVersion: pool.metadata.resourceVersion },
        // A merge patch merges objects: a time zone the new schedule leaves out is removed (UTC).
        spec: {
          schedule: schedule ? { timeZone: schedule.timeZone ?? null, windows: schedule.windows } : null,
        },
      },
      'application/merge-patch+json',
    );
  }

  /** Deletes a pool: its unclaimed desktops go with it; claimed ones stay with their sessions. */
  async delete(p: Principal, name: string): Promise<boolean> {
    assertAdmin(p, 'delete warm pools (deletePool)');
    const pool = await this.read(name, 'delete');
    try {
      // Conditional on the uid read: a pool made again under the name meanwhile is not deleted.
      await this.kube.call('DELETE', this.path(name), {
        apiVersion: 'v1',
        kind: 'DeleteOptions',
        preconditions: { uid: pool.metadata.uid },
      });
      return true;
    } catch (err) {
      if (err instanceof KubeApiError && (err.notFound || err.conflict))
        throw notFound(`pool ${quoted(name)} is already gone`);
      throw err;
    }
  }
}
