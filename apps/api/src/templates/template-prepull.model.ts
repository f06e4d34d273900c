import { Field, Int, ObjectType } from '@nestjs/graphql';
import type { VDITemplate } from '@vdi/crd-types';

@ObjectType('TemplatePrepull', {
  description:
    "Where the template's image is already pulled: the operator's image puller (a DaemonSet per template) on the nodes its desktops can land on.",
})
export class TemplatePrepullModel {
  @Field(() => String, { description: 'The image these counts are for.' }) image!: string;
  @Field(() => Int, { description: 'Eligible nodes that have the image.' }) ready!: number;
  @Field(() => Int, { description: "Nodes the template's desktops can land on." }) desired!: number;
  @Field(() => [String], { description: 'Nodes that have the image, by name (at most 64 listed).' })
  nodes!: string[];
  @Field(() => String, { description: 'When these counts last changed (RFC 3339).' }) observedTime!: string;
}

/** The template's pre-pull counts as the operator wrote them; undefined while it has no puller. */
export function toPrepullModel(t: VDITemplate | undefined): TemplatePrepullModel | undefined {
  const p = t?.status?.prepull;
  if (!p) return undefined;
  return {
    image: p.image,
    ready: p.ready,
    desired: p.desired,
    nodes: [...p.nodes],
    observedTime: p.observedTime,
  };
}
