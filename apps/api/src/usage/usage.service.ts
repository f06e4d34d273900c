/**
 * GPU-hour budgets in the API: which budget applies to a caller (VDI_GPU_BUDGETS, budget-rules.ts),
 * recorded in the owner's ledger (VDIUsage spec) at each create and resume so the operator can
 * hold running desktops to it; refusal of a GPU create or resume once it is used up; and the
 * `usage` / `usages` answers. The operator alone writes the ledger's counts (its status).
 * Ledgers are read from the API server, not a cache: a refusal must see the latest count.
 */
import { Inject, Injectable } from '@nestjs/common';
import { API_VERSION, KIND_USAGE, PLURAL_USAGE, type VDIUsage } from '@vdi/crd-types';
import { KubeApiError, type KubeJsonClient } from '@vdi/kube-client';
import {
  budgetMessage,
  budgetState,
  LABEL_USER_HASH,
  ownerHash,
  usageName,
  type BudgetState,
  type SessionOwner,
} from '@vdi/session-spec';
import { isDeepStrictEqual } from 'node:util';
import type { Principal } from '../auth/principal.js';
import { apiError, ErrorCode, forbidden } from '../common/errors.js';
import { API_CONFIG, type ApiConfig } from '../config.js';
import { KUBE_CLIENT } from '../kube/tokens.js';
import { budgetFor, type Budget } from './budget-rules.js';
import type { GpuUsageModel } from './usage.model.js';

const hours = (s: number) => Math.round((s / 3600) * 1000) / 1000;
const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

export function toUsageModel(user: string, state: BudgetState, ledger: VDIUsage | undefined): GpuUsageModel {
  return {
    user,
    period: state.period,
    periodStart: iso(state.start),
    renewsAt: iso(state.renewsAt),
    gpuHoursUsed: hours(state.usedSeconds),
    gpuHoursBudget: state.budgetSeconds !== undefined ? hours(state.budgetSeconds) : null,
    gpuHoursLeft: state.leftSeconds !== undefined ? hours(state.leftSeconds) : null,
    rule: state.rule ?? null,
    exhausted: state.exhausted,
    slicesHeld: state.holdingSlices,
    gpuHoursTotal: hours(state.totalSeconds),
    countedAt: ledger?.status?.countedAt ?? null,
  };
}

@Injectable()
export class UsageService {
  constructor(
    @Inject(KUBE_CLIENT) private readonly kube: KubeJsonClient,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  /** The budget the configured rules give a caller; undefined: none. */
  budgetOf(p: Principal): Budget | undefined {
    return budgetFor(this.config.gpuBudgets, { user: p.user, groups: p.groups, roles: p.roles });
  }

  private collection(): string {
    return `/apis/${API_VERSION}/namespaces/${this.config.sessionsNamespace}/${PLURAL_USAGE}`;
  }

  private async ledger(owner: SessionOwner): Promise<VDIUsage | undefined> {
    try {
      return await this.kube.call<VDIUsage>('GET', `${this.collection()}/${usageName(ownerHash(owner))}`);
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return undefined;
      throw err;
    }
  }

  /**
   * Before a create or resume that takes a GPU time-slice (under the owner's Lease): records the
   * caller's budget in their ledger and refuses with BUDGET_EXHAUSTED when it is used up. An
   * admin acting on another owner's session is held to that owner's recorded budget.
   */
  async checkBudget(p: Principal, owner: SessionOwner, user: string): Promise<void> {
    let ledger = await this.ledger(owner);
    const own = p.owner.issuer === owner.issuer && p.owner.subject === owner.subject;
    const budget = own ? this.budgetOf(p) : ledger?.spec.budget;
    if (own) ledger = await this.record(owner, user, budget, ledger);
    const state = budgetState(ledger, new Date(), budget);
    if (state.exhausted) {
      throw apiError(
        ErrorCode.BudgetExhausted,
        `GPU budget used up: ${budgetMessage(state)}. Launch without a GPU (gpu: 0), or ask an admin for a larger budget`,
        {
          gpuHoursUsed: hours(state.usedSeconds),
          gpuHoursBudget: hours(state.budgetSeconds ?? 0),
          renewsAt: iso(state.renewsAt),
        },
      );
    }
  }

  /** Writes the owner's budget (and shown name) into their ledger when it changed; makes the ledger if need be. */
  private async record(
    owner: SessionOwner,
    user: string,
    budget: Budget | undefined,
    ledger: VDIUsage | undefined,
  ): Promise<VDIUsage | undefined> {
    const name = usageName(ownerHash(owner));
    if (!ledger) {
      const body = {
        apiVersion: API_VERSION,
        kind: KIND_USAGE,
        metadata: {
          name,
          namespace: this.config.sessionsNamespace,
          labels: { [LABEL_USER_HASH]: ownerHash(owner), 'app.kubernetes.io/part-of': 'vdi-platform' },
        },
        spec: { owner, user, ...(budget ? { budget } : {}) },
      };
      try {
        return await this.kube.call<VDIUsage>('POST', this.collection(), body);
      } catch (err) {
        if (!(err instanceof KubeApiError) || err.status !== 409) throw err;
        ledger = await this.ledger(owner); // the operator made it meanwhile
        if (!ledger) return undefined;
      }
    }
    if (ledger.spec.user === user && isDeepStrictEqual(ledger.spec.budget, budget)) return ledger;
    return this.kube.call<VDIUsage>(
      'PATCH',
      `${this.collection()}/${name}`,
      {
        metadata: { resourceVersion: ledger.metadata.resourceVersion },
        spec: { user, budget: budget ?? null },
      },
      'application/merge-patch+json',
    );
  }

  /** The caller's usage this period, against the budget the rules give them now. */
  async usage(p: Principal): Promise<GpuUsageModel> {
    const ledger = await this.ledger(p.owner);
    return toUsageModel(p.user, budgetState(ledger, new Date(), this.budgetOf(p)), ledger);
  }

  /** Every user's usage (admins), against the budget recorded in each ledger, most used first. */
  async usages(p: Principal): Promise<GpuUsageModel[]> {
    if (!p.isAdmin) throw forbidden("only admins may see everyone's GPU usage (usages)");
    const now = new Date();
    const list = await this.kube.call<{ items: VDIUsage[] }>('GET', this.collection());
    return list.items
      .map((l) => toUsageModel(l.spec.user, budgetState(l, now), l))
      .sort((a, b) => b.gpuHoursUsed - a.gpuHoursUsed || a.user.localeCompare(b.user));
  }
}
