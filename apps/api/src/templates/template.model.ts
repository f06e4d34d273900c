import { Field, Int, ObjectType } from '@nestjs/graphql';
import { isRetired, TemplateConditionType, type VDITemplate, withTemplateDefaults } from '@vdi/crd-types';
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
  @Field(() => Boolean, {
    description:
      'A retired template takes no new sessions (createSession refuses it); its existing sessions keep running. Admins retire and restore templates.',
  })
  retired!: boolean;
  @Field(() => Int, {
    description: 'Sessions that use this template now (any phase, stopped ones included).',
  })
  sessionCount!: number;
  @Field(() => String, { description: 'The desktop image.' }) image!: string;
  @Field(() => String, {
    nullable: true,
    description: 'Always, IfNotPresent or Never; unset: the cluster default.',
  })
  imagePullPolicy?: string;
  @Field(() => Int) width!: number;
  @Field(() => Int) height!: number;
  @Field(() => Int) framerate!: number;
  @Field(() => Int) dpi!: number;
  @Field(() => Int, { description: 'Video bitrate in kbit/s.' }) bitrateKbps!: number;
  @Field(() => String, { description: 'websockets or webrtc.' }) streamingMode!: string;
  @Field(() => String, {
    nullable: true,
    description: 'lifetime.default: how long a session lives unless it says.',
  })
  lifetimeDefault?: string;
  @Field(() => String, {
    nullable: true,
    description: 'lifetime.max: the longest lifetime a session may ask for.',
  })
  lifetimeMax?: string;
  @Field(() => String, {
    nullable: true,
    description: 'lifetime.idle.default: the idle timeout unless a session says.',
  })
  idleDefault?: string;
  @Field(() => String, {
    nullable: true,
    description: 'lifetime.idle.max: the longest idle timeout a session may ask for.',
  })
  idleMax?: string;
  @Field(() => String, {
    nullable: true,
    description: 'Stop or Delete, when the template culls idle desktops.',
  })
  idleAction?: string;
  @Field(() => String, { description: 'Size limit of /dev/shm.' }) shmSize!: string;
  @Field(() => String, { description: 'Size of a per-user home volume.' }) homeSize!: string;
  @Field(() => String, {
    nullable: true,
    description:
      'The version read (metadata.resourceVersion): pass it to updateTemplate to refuse a change made meanwhile.',
  })
  resourceVersion?: string;
}

/** Usable unless the operator said otherwise: a template the operator has not looked at yet is given the benefit of the doubt. */
export function templateUsable(t: VDITemplate): { usable: boolean; message?: string } {
  const ready = t.status?.conditions?.find((c) => c.type === TemplateConditionType.Ready);
  if (ready?.status === 'False' || t.status?.ready === false) {
    return { usable: false, message: ready?.message || t.status?.message || 'the operator found it invalid' };
  }
  return { usable: true };
}

export function toTemplateModel(t: VDITemplate, sessionCount = 0): TemplateModel {
  const spec = withTemplateDefaults(t.spec);
  const r = spec.resources;
  const l = spec.lifetime;
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
    retired: isRetired(t),
    sessionCount,
    image: spec.image,
    ...(spec.imagePullPolicy ? { imagePullPolicy: spec.imagePullPolicy } : {}),
    width: spec.display.width,
    height: spec.display.height,
    framerate: spec.display.framerate,
    dpi: spec.display.dpi,
    bitrateKbps: spec.display.bitrateKbps,
    streamingMode: spec.streaming?.mode ?? 'websockets',
    ...(l?.default ? { lifetimeDefault: l.default } : {}),
    ...(l?.max ? { lifetimeMax: l.max } : {}),
    ...(l?.idle?.default ? { idleDefault: l.idle.default } : {}),
    ...(l?.idle?.max ? { idleMax: l.idle.max } : {}),
    ...(l?.idle ? { idleAction: l.idle.action } : {}),
    shmSize: spec.shmSize,
    homeSize: spec.homeSize,
    ...(t.metadata.resourceVersion ? { resourceVersion: t.metadata.resourceVersion } : {}),
  };
}
