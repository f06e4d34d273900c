import { Field, InputType, Int, ObjectType } from '@nestjs/graphql';
import { PoolConditionType, type VDIPool } from '@vdi/crd-types';

@ObjectType('PoolWindow', { description: 'A weekly window of a pool schedule.' })
export class PoolWindowModel {
  @Field(() => [String], { description: 'Days it starts on: Mon Tue Wed Thu Fri Sat Sun.' }) days!: string[];
  @Field(() => String, { description: 'Local start HH:MM (inclusive).' }) start!: string;
  @Field(() => String, {
    description:
      'Local end HH:MM (exclusive; 24:00 = end of day; before start = overnight, ends the next day).',
  })
  end!: string;
  @Field(() => Int, { description: 'Warm desktops kept while the window is open.' }) size!: number;
}

@ObjectType('PoolSchedule', {
  description:
    'Warm desktops by time of week: inside a window the pool keeps its size (the largest of overlapping windows), outside every window the pool size.',
})
export class PoolScheduleModel {
  @Field(() => String, { description: 'IANA time zone of the windows.' }) timeZone!: string;
  @Field(() => [PoolWindowModel]) windows!: PoolWindowModel[];
}

@InputType('PoolWindowInput', { description: 'A weekly window of a pool schedule.' })
export class PoolWindowInput {
  @Field(() => [String], { description: 'Days it starts on: Mon Tue Wed Thu Fri Sat Sun.' }) days!: string[];
  @Field(() => String, { description: 'Local start HH:MM.' }) start!: string;
  @Field(() => String, { description: 'Local end HH:MM (24:00 = end of day; before start = overnight).' })
  end!: string;
  @Field(() => Int, { description: 'Warm desktops kept while the window is open.' }) size!: number;
}

@InputType('PoolScheduleInput', { description: 'A pool schedule.' })
export class PoolScheduleInput {
  @Field(() => String, { nullable: true, description: 'IANA time zone (default UTC).' }) timeZone?: string;
  @Field(() => [PoolWindowInput]) windows!: PoolWindowInput[];
}
import { ConditionModel, toConditionModel } from '../common/condition.model.js';

@ObjectType('Pool', {
  description:
    'A warm pool (VDIPool): desktops of one template kept started and Ready with no user, claimed by new sessions of the template.',
})
export class PoolModel {
  @Field(() => String) name!: string;
  @Field(() => String, { description: 'The template whose desktops the pool keeps warm.' }) template!: string;
  @Field(() => Int, { description: 'Warm desktops to keep.' }) size!: number;
  @Field(() => Int, { description: 'Warm desktops started and Ready, unclaimed.' }) warm!: number;
  @Field(() => Int, { description: 'Warm desktops still starting.' }) starting!: number;
  @Field(() => Int, { description: 'Desktops of the pool claimed by sessions (theirs now).' })
  claimed!: number;
  @Field(() => Boolean, {
    nullable: true,
    description:
      'Whether the template can be pooled (persistence none, websockets); unset until the operator has looked.',
  })
  poolable?: boolean;
  @Field(() => String, { nullable: true, description: 'Why it cannot be pooled, and what to do.' })
  poolableMessage?: string;
  @Field(() => String, { nullable: true, description: 'Node labels the warm desktops must run on.' })
  nodeSelector?: string;
  @Field(() => String, { nullable: true, description: 'GPU product (nvidia.com/gpu.product) they run on.' })
  gpuProduct?: string;
  @Field(() => PoolScheduleModel, { nullable: true, description: 'The schedule, when the pool has one.' })
  schedule?: PoolScheduleModel;
  @Field(() => Int, {
    nullable: true,
    description:
      'Warm desktops the pool keeps now (size, or the open window size); unset until the operator has looked.',
  })
  targetSize?: number;
  @Field(() => String, {
    nullable: true,
    description: 'When the schedule next changes the target (RFC 3339).',
  })
  nextChange?: string;
  @Field(() => String, {
    nullable: true,
    description: 'Why the schedule cannot be followed, and what to do.',
  })
  scheduleMessage?: string;
  @Field(() => [ConditionModel]) conditions!: ConditionModel[];
}

export function toPoolModel(p: VDIPool): PoolModel {
  const cond = p.status?.conditions?.find((c) => c.type === PoolConditionType.Poolable);
  const scheduleCond = p.status?.conditions?.find((c) => c.type === PoolConditionType.ScheduleValid);
  const selector = p.spec.placement?.nodeSelector;
  return {
    name: p.metadata.name!,
    template: p.spec.template,
    size: p.spec.size,
    warm: p.status?.warm ?? 0,
    starting: p.status?.starting ?? 0,
    claimed: p.status?.claimed ?? 0,
    ...(cond ? { poolable: cond.status === 'True' } : {}),
    ...(cond && cond.status !== 'True' ? { poolableMessage: cond.message } : {}),
    ...(selector && Object.keys(selector).length > 0
      ? {
          nodeSelector: Object.entries(selector)
            .map(([k, v]) => `${k}=${v}`)
            .join(','),
        }
      : {}),
    ...(p.spec.placement?.gpuProduct ? { gpuProduct: p.spec.placement.gpuProduct } : {}),
    ...(p.spec.schedule
      ? {
          schedule: {
            timeZone: p.spec.schedule.timeZone ?? 'UTC',
            windows: p.spec.schedule.windows.map((w) => ({ ...w, days: [...w.days] })),
          },
        }
      : {}),
    ...(p.status?.targetSize !== undefined ? { targetSize: p.status.targetSize } : {}),
    ...(p.status?.nextChange ? { nextChange: p.status.nextChange } : {}),
    ...(scheduleCond && scheduleCond.status !== 'True' ? { scheduleMessage: scheduleCond.message } : {}),
    conditions: (p.status?.conditions ?? []).map(toConditionModel),
  };
}

@InputType('CreatePoolInput', { description: 'A new warm pool.' })
export class CreatePoolInput {
  @Field(() => String, { description: 'The pool name (a DNS-1123 name).' }) name!: string;
  @Field(() => String, { description: 'A template with persistence none and websockets streaming.' })
  template!: string;
  @Field(() => Int, { description: 'Warm desktops to keep (0 to the maximum, within free capacity).' })
  size!: number;
  @Field(() => String, {
    nullable: true,
    description: "Node labels as k=v,k2=v2, narrowing the template's placement.",
  })
  nodeSelector?: string;
  @Field(() => String, { nullable: true, description: 'GPU product (nvidia.com/gpu.product).' })
  gpuProduct?: string;
  @Field(() => PoolScheduleInput, {
    nullable: true,
    description:
      'Windows with their own size (e.g. working hours); outside every window the pool keeps size.',
  })
  schedule?: PoolScheduleInput;
}
