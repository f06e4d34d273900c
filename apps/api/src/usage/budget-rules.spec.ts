import { budgetFor, parseBudgetRules } from './budget-rules.js';

describe('parseBudgetRules', () => {
  it('reads default, user, group and role rules, hours per period or unlimited', () => {
    const { rules, problems } = parseBudgetRules(
      'default=40h/month; group:gpu-power=200h/Month, role:vdi-admin=unlimited; user:alice@example.com=2.5h/week',
    );
    expect(problems).toEqual([]);
    expect(rules).toEqual([
      { who: 'default', gpuHours: 40, period: 'Month' },
      { who: 'group:gpu-power', gpuHours: 200, period: 'Month' },
      { who: 'role:vdi-admin' },
      { who: 'user:alice@example.com', gpuHours: 2.5, period: 'Week' },
    ]);
  });

  it('nothing configured: no rules', () => {
    expect(parseBudgetRules(undefined)).toEqual({ rules: [], problems: [] });
    expect(parseBudgetRules(' ; ')).toEqual({ rules: [], problems: [] });
  });

  it.each([
    ['everyone=40h/month', "'everyone=40h/month' must start with default="],
    ['default=40/month', 'the budget must be <hours>h/<day|week|month>'],
    ['default=-1h/month', 'the budget must be'],
    ['default=40h/year', 'the budget must be'],
    ['default=1h/day;default=2h/day', "'default' has two rules"],
  ])('refuses %s, naming the rule', (text, message) => {
    expect(parseBudgetRules(text).problems.join('\n')).toContain(message);
  });
});

describe('budgetFor', () => {
  const { rules } = parseBudgetRules(
    'default=40h/month; group:gpu-power=200h/month; group:students=10h/week; role:vdi-admin=unlimited; user:carol@example.com=1h/day',
  );
  const who = (user: string, groups: string[] = [], roles: string[] = ['vdi-user']) => ({
    user,
    groups,
    roles,
  });

  it('a user rule wins over groups and roles', () => {
    expect(budgetFor(rules, who('carol@example.com', ['gpu-power'], ['vdi-admin']))).toEqual({
      gpuHours: 1,
      period: 'Day',
      rule: 'user:carol@example.com',
    });
  });

  it('the most generous group rule applies; unlimited beats any', () => {
    // 200 h a month (0.27 h/h) beats 10 h a week (0.06 h/h).
    expect(budgetFor(rules, who('bob@example.com', ['students', 'gpu-power']))?.rule).toBe('group:gpu-power');
    expect(budgetFor(rules, who('bob@example.com', ['students']))?.rule).toBe('group:students');
    expect(budgetFor(rules, who('admin@example.com', ['students'], ['vdi-admin']))).toBeUndefined();
  });

  it('else the default; without rules no budget', () => {
    expect(budgetFor(rules, who('dave@example.com'))).toEqual({
      gpuHours: 40,
      period: 'Month',
      rule: 'default',
    });
    expect(budgetFor([], who('dave@example.com'))).toBeUndefined();
  });
});
