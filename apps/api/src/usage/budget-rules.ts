/**
 * GPU-hour budgets, from `VDI_GPU_BUDGETS`: rules separated by `;` or `,`, each
 * `<who>=<hours>h/<period>` or `<who>=unlimited`, where who is `default`, `user:<e-mail or
 * subject>` (the user as the platform shows them), `group:<group>` (the token's `groups` claim)
 * or `role:<realm role>`, and period is `day`, `week` or `month` (UTC). For example
 * `default=40h/month; group:gpu-power=200h/month; user:alice@example.com=unlimited`.
 *
 * Which rule applies: a `user:` rule; else the most generous of the caller's `group:` and `role:`
 * rules (unlimited beats any number; per hour of the period); else `default`; else no budget.
 */
import type { BudgetPeriod, VDIUsageSpec } from '@vdi/crd-types';

export type Budget = NonNullable<VDIUsageSpec['budget']>;

export interface BudgetRule {
  who: string;
  /** undefined: unlimited. */
  gpuHours?: number;
  period?: BudgetPeriod;
}

const PERIODS: Record<string, BudgetPeriod> = { day: 'Day', week: 'Week', month: 'Month' };
const PERIOD_HOURS: Record<BudgetPeriod, number> = { Day: 24, Week: 168, Month: 744 };
const WHO = /^(default|(user|group|role):\S+)$/;

/** The rules of a VDI_GPU_BUDGETS value, or the problems with it (each naming the rule). */
export function parseBudgetRules(text: string | undefined): { rules: BudgetRule[]; problems: string[] } {
  const rules: BudgetRule[] = [];
  const problems: string[] = [];
  for (const raw of (text ?? '').split(/[;,]/)) {
    const item = raw.trim();
    if (!item) continue;
    const eq = item.lastIndexOf('=');
    const who = eq > 0 ? item.slice(0, eq).trim() : '';
    const value =
      eq > 0
        ? item
            .slice(eq + 1)
            .trim()
            .toLowerCase()
        : '';
    if (!WHO.test(who)) {
      problems.push(
        `VDI_GPU_BUDGETS: '${item}' must start with default=, user:<user>=, group:<group>= or role:<role>=`,
      );
      continue;
    }
    if (rules.some((r) => r.who === who)) {
      problems.push(`VDI_GPU_BUDGETS: '${who}' has two rules; keep one`);
      continue;
    }
    if (value === 'unlimited') {
      rules.push({ who });
      continue;
    }
    const m = /^(\d+(?:\.\d+)?)h\/(day|week|month)$/.exec(value);
    const hours = m ? Number(m[1]) : NaN;
    if (!m || !(hours >= 0) || hours > 1_000_000) {
      problems.push(
        `VDI_GPU_BUDGETS: '${item}': the budget must be <hours>h/<day|week|month> (e.g. 40h/month) or unlimited`,
      );
      continue;
    }
    rules.push({ who, gpuHours: hours, period: PERIODS[m[2]!]! });
  }
  return { rules, problems };
}

export interface BudgetSubject {
  user: string;
  groups: readonly string[];
  roles: readonly string[];
}

/** The budget that applies to a caller (with the rule that set it); undefined: no budget. */
export function budgetFor(rules: readonly BudgetRule[], who: BudgetSubject): Budget | undefined {
  const pick = (r: BudgetRule | undefined): Budget | undefined =>
    r?.gpuHours === undefined || !r.period
      ? undefined
      : { gpuHours: r.gpuHours, period: r.period, rule: r.who };
  const own = rules.find((r) => r.who === `user:${who.user}`);
  if (own) return pick(own);
  const member = rules.filter(
    (r) =>
      (r.who.startsWith('group:') && who.groups.includes(r.who.slice(6))) ||
      (r.who.startsWith('role:') && who.roles.includes(r.who.slice(5))),
  );
  if (member.length) {
    if (member.some((r) => r.gpuHours === undefined)) return undefined;
    const rate = (r: BudgetRule) => r.gpuHours! / PERIOD_HOURS[r.period!];
    return pick(member.reduce((a, b) => (rate(b) > rate(a) ? b : a)));
  }
  return pick(rules.find((r) => r.who === 'default'));
}
