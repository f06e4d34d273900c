import { Field, InputType, Int } from '@nestjs/graphql';

/**
 * What a user may choose when launching a desktop. The owner is never part of it: it comes from
 * the token. Values are validated against the VDISession schema and the template's bounds.
 */
@InputType()
export class CreateSessionInput {
  @Field(() => String, { description: 'Name of the template (see `templates`).' })
  template!: string;
  @Field(() => String, {
    nullable: true,
    description:
      'Session name (DNS-1035 label, ≤ 50 characters); generated as <user>-<random> when left out.',
  })
  name?: string;
  @Field(() => Int, {
    nullable: true,
    description: "GPU time-slices (0 or 1); the template's default when left out.",
  })
  gpu?: number;
  @Field(() => String, { nullable: true, description: 'Memory limit, e.g. 8Gi; within the template bounds.' })
  memory?: string;
  @Field(() => String, { nullable: true, description: 'CPU, e.g. 2 or 1500m; within the template bounds.' })
  cpu?: string;
  @Field(() => Int, { nullable: true }) width?: number;
  @Field(() => Int, { nullable: true }) height?: number;
  @Field(() => Int, { nullable: true }) framerate?: number;
  @Field(() => String, {
    nullable: true,
    description: 'Delete the session this long after creation, e.g. 8h.',
  })
  maxLifetime?: string;
  @Field(() => String, {
    nullable: true,
    description: 'Delete the session after this long without a viewer, e.g. 30m.',
  })
  idleTimeout?: string;
}
