import { Field, Float, Int, ObjectType } from '@nestjs/graphql';

@ObjectType('GpuUsage', {
  description:
    "GPU time-slice hours one user used in the current budget period (UTC), counted by the operator into the user's VDIUsage ledger, and their budget.",
})
export class GpuUsageModel {
  @Field(() => String, { description: 'Who, as shown (the e-mail of their latest session).' }) user!: string;
  @Field(() => String, {
    description: 'Day, Week or Month: how often the budget renews (Month without a budget).',
  })
  period!: string;
  @Field(() => String, { description: 'Start of the current period (RFC 3339).' }) periodStart!: string;
  @Field(() => String, { description: 'When the budget renews: the end of the period (RFC 3339).' })
  renewsAt!: string;
  @Field(() => Float, {
    description: 'Used this period, in time-slice hours (up to the last count, plus running desktops since).',
  })
  gpuHoursUsed!: number;
  @Field(() => Float, { nullable: true, description: 'The budget per period; null: no budget.' })
  gpuHoursBudget?: number | null;
  @Field(() => Float, { nullable: true, description: 'What is left this period; null: no budget.' })
  gpuHoursLeft?: number | null;
  @Field(() => String, {
    nullable: true,
    description: 'The VDI_GPU_BUDGETS rule that set the budget (default, user:…, group:…, role:…).',
  })
  rule?: string | null;
  @Field(() => Boolean, {
    description: 'True when the budget is used up: GPU desktops are refused and stopped.',
  })
  exhausted!: boolean;
  @Field(() => Int, {
    description: "GPU time-slices the user's desktops hold (at the operator's last count).",
  })
  slicesHeld!: number;
  @Field(() => Float, {
    description:
      "Every time-slice hour of this user up to now: the operator's counts, plus what their desktops used since.",
  })
  gpuHoursTotal!: number;
  @Field(() => String, {
    nullable: true,
    description:
      'When the operator last wrote the ledger (RFC 3339): when its desktops changed, else every VDI_USAGE_CHECKPOINT_SECONDS.',
  })
  countedAt?: string | null;
}
