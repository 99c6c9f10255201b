/** Rule kinds by name: one file each behind `RuleKindImpl` (types.ts). */
import type { RuleKind } from '../types.js';
import { burnRateKind } from './burn-rate.js';
import { kpiRuleKind } from './kpi-rule.js';
import { slaTimerKind } from './sla-timer.js';
import type { EvaluationContext, Observation, Rule, RuleKindImpl } from './types.js';

const KINDS: { [K in RuleKind]: RuleKindImpl<Extract<Rule, { kind: K }>> } = {
  kpi: kpiRuleKind,
  sla: slaTimerKind,
  burn_rate: burnRateKind,
};

export function evaluateRule(rule: Rule, ctx: EvaluationContext): Promise<Observation[]> {
  return (KINDS[rule.kind] as RuleKindImpl).evaluate(rule, ctx);
}

export * from './types.js';
export { validateRule, validateRules, RULE_KINDS, RULE_ID_PATTERN } from './validate.js';
