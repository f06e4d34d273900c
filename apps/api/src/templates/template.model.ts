import { Field, Int, ObjectType } from '@nestjs/graphql';
import { TemplateConditionType, type VDITemplate, withTemplateDefaults } from '@vdi/crd-types';
import { ConditionModel, toConditionModel } from '../common/condition.model.js';

@ObjectType('Template', { description: 'A desktop kind users can launch (a VDITemplate).' })
export class TemplateModel {
  @Field(() => String) name!: string;
  @Field(() => String) displayName!: string;
  @Field(() => String, { nullable: true }) description?: string;
  @Field(() => String, { nullable: true }) icon?: string;
  @Field(() => Int, { description: 'GPU time-slices a session gets unless it asks (0 or 1).' })
  defaultGPU!: number;
  @Field(() => Int, { description: 'Most GPU time-slices a session may ask for (0 or 1).' }) maxGPU!: number;
  @Field(() => String) defaultMemory!: string;
  @Field(() => String) defaultCPU!: string;
  @Field(() => String, { nullable: true }) maxMemory?: string;
  @Field(() => String, { nullable: true }) maxCPU?: string;
  @Field(() => String, { nullable: true, description: 'Least memory a session may ask for.' })
  minMemory?: string;
  @Field(() => String, { nullable: true, description: 'Least CPU a session may ask for.' }) minCPU?: string;
  @Field(() => String) encoder!: string;
  @Field(() => String, { description: 'user, session or none.' }) persistence!: string;
  @Field(() => Boolean, { description: 'False when the operator found the template invalid.' })
  usable!: boolean;
  @Field(() => String, { nullable: true, description: 'Why the template is not usable.' }) message?: string;
  @Field(() => [ConditionModel]) conditions!: ConditionModel[];
}

/** Usable unless the operator said otherwise: a template the operator has not looked at yet is given the benefit of the doubt. */
export function templateUsable(t: VDITemplate): { usable: boolean; message?: string } {
  const ready = t.status?.conditions?.find((c) => c.type === TemplateConditionType.Ready);
  if (ready?.status === 'False' || t.status?.ready === false) {
    return { usable: false, message: ready?.message || t.status?.message || 'the operator found it invalid' };
  }
  return { usable: true };
}

export function toTemplateModel(t: VDITemplate): TemplateModel {
  const spec = withTemplateDefaults(t.spec);
  const r = spec.resources;
  const { usable, message } = templateUsable(t);
  return {
    name: t.metadata.name!,
    displayName: spec.displayName,
    ...(spec.description ? { description: spec.description } : {}),
    ...(spec.icon ? { icon: spec.icon } : {}),
    defaultGPU: r.defaultGPU,
    maxGPU: r.maxGPU,
    defaultMemory: r.defaultMemory,
    defaultCPU: r.defaultCPU,
    ...(r.maxMemory ? { maxMemory: r.maxMemory } : {}),
    ...(r.maxCPU ? { maxCPU: r.maxCPU } : {}),
    ...(r.minMemory ? { minMemory: r.minMemory } : {}),
    ...(r.minCPU ? { minCPU: r.minCPU } : {}),
    encoder: spec.encoder,
    persistence: spec.persistence,
    usable,
    ...(message ? { message } : {}),
    conditions: (t.status?.conditions ?? []).map(toConditionModel),
  };
}
