import { Field, InputType, Int, ObjectType } from '@nestjs/graphql';
import { PoolConditionType, type VDIPool } from '@vdi/crd-types';
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
  @Field(() => [ConditionModel]) conditions!: ConditionModel[];
}

export function toPoolModel(p: VDIPool): PoolModel {
  const cond = p.status?.conditions?.find((c) => c.type === PoolConditionType.Poolable);
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
}
