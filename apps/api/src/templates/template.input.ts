import { Field, InputType, Int } from '@nestjs/graphql';

/**
 * What an admin may set on a template through the API (createTemplate, updateTemplate). Each
 * field is a field of VDITemplate's spec (template-spec-input.ts TEMPLATE_FIELDS says which) and
 * is checked against the CRD's own schema before anything is written.
 *
 * On update a field left out keeps its value, and `null` removes it (an optional field goes away,
 * a defaulted one goes back to its default); displayName and image cannot be removed. What the
 * API does not offer — env, nodeSelector, tolerations, egress, homeMountPath, lifetime.warnBefore
 * — is kept as it is and stays a kubectl edit.
 */
@InputType()
export class TemplateInput {
  @Field(() => String, { nullable: true, description: 'Name shown in the gallery (required on create).' })
  displayName?: string | null;
  @Field(() => String, { nullable: true }) description?: string | null;
  @Field(() => String, { nullable: true, description: 'Icon URL (https://… or data:image/…).' })
  icon?: string | null;
  @Field(() => String, {
    nullable: true,
    description: 'The Selkies desktop image (required on create); new sessions use the new one.',
  })
  image?: string | null;
  @Field(() => String, { nullable: true, description: 'Always, IfNotPresent or Never.' })
  imagePullPolicy?: string | null;
  @Field(() => Int, {
    nullable: true,
    description: 'GPU time-slices a session gets unless it asks (0 or 1).',
  })
  defaultGPU?: number | null;
  @Field(() => Int, { nullable: true, description: 'Most GPU time-slices a session may ask for (0 or 1).' })
  maxGPU?: number | null;
  @Field(() => String, { nullable: true, description: 'Memory limit unless a session asks, e.g. 4Gi.' })
  defaultMemory?: string | null;
  @Field(() => String, { nullable: true, description: 'CPU request unless a session asks, e.g. 2 or 500m.' })
  defaultCPU?: string | null;
  @Field(() => String, { nullable: true }) minMemory?: string | null;
  @Field(() => String, { nullable: true }) minCPU?: string | null;
  @Field(() => String, { nullable: true }) maxMemory?: string | null;
  @Field(() => String, { nullable: true }) maxCPU?: string | null;
  @Field(() => String, { nullable: true, description: 'auto or a Selkies encoder (h264enc, vp9enc, …).' })
  encoder?: string | null;
  @Field(() => Int, { nullable: true }) width?: number | null;
  @Field(() => Int, { nullable: true }) height?: number | null;
  @Field(() => Int, { nullable: true }) framerate?: number | null;
  @Field(() => Int, { nullable: true }) dpi?: number | null;
  @Field(() => Int, { nullable: true, description: 'Video bitrate in kbit/s.' }) bitrateKbps?: number | null;
  @Field(() => String, { nullable: true, description: 'websockets or webrtc.' })
  streamingMode?: string | null;
  @Field(() => String, {
    nullable: true,
    description: 'How long a session lives when it does not say (lifetime.default), e.g. 8h.',
  })
  lifetimeDefault?: string | null;
  @Field(() => String, {
    nullable: true,
    description: 'The longest lifetime a session may ask for (lifetime.max).',
  })
  lifetimeMax?: string | null;
  @Field(() => String, {
    nullable: true,
    description: 'How long a desktop may have no viewer before it is culled (lifetime.idle.default).',
  })
  idleDefault?: string | null;
  @Field(() => String, { nullable: true, description: 'The longest idle timeout a session may ask for.' })
  idleMax?: string | null;
  @Field(() => String, { nullable: true, description: 'Stop or Delete: what idle culling does.' })
  idleAction?: string | null;
  @Field(() => String, { nullable: true, description: 'Size limit of /dev/shm, e.g. 1Gi.' })
  shmSize?: string | null;
}

/**
 * A new template: a name and its fields. `persistence` and `homeSize` are chosen here only: the
 * homes of existing sessions were made with them (a home volume's size is fixed once made).
 */
@InputType()
export class CreateTemplateInput extends TemplateInput {
  @Field(() => String, {
    description:
      "Template name: lower-case letters, digits, '-' and '.', at most 63 characters (e.g. ubuntu-desktop).",
  })
  name!: string;
  @Field(() => String, { nullable: true, description: 'user (default), session or none.' })
  persistence?: string | null;
  @Field(() => String, { nullable: true, description: 'Size of the per-user home volume, e.g. 10Gi.' })
  homeSize?: string | null;
}
