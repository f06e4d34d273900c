import { Field, ObjectType } from '@nestjs/graphql';
import type { Condition } from '@vdi/crd-types';

@ObjectType('Condition', { description: 'A status condition (metav1.Condition) as the operator wrote it.' })
export class ConditionModel {
  @Field(() => String) type!: string;
  @Field(() => String, { description: 'True, False or Unknown.' }) status!: string;
  @Field(() => String) reason!: string;
  @Field(() => String) message!: string;
  @Field(() => String) lastTransitionTime!: string;
}

export function toConditionModel(c: Condition): ConditionModel {
  return {
    type: c.type,
    status: c.status,
    reason: c.reason,
    message: c.message,
    lastTransitionTime: c.lastTransitionTime,
  };
}
