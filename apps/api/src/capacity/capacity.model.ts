import { Field, Int, ObjectType } from '@nestjs/graphql';

@ObjectType('GpuProductCapacity', { description: 'GPU time-slices of one GPU product (node label value).' })
export class GpuProductCapacityModel {
  @Field(() => String, { description: 'The nvidia.com/gpu.product label value, e.g. NVIDIA-L4-SHARED.' })
  product!: string;
  @Field(() => Boolean, { description: 'True when the product has NVENC (hardware H.264 encoding).' })
  nvenc!: boolean;
  @Field(() => Int) total!: number;
  @Field(() => Int) free!: number;
}

@ObjectType('NodeCapacity', { description: 'GPU time-slices of one GPU node (admins only).' })
export class NodeCapacityModel {
  @Field(() => String) name!: string;
  @Field(() => String) product!: string;
  @Field(() => Boolean) nvenc!: boolean;
  @Field(() => Int, { description: 'Allocatable time-slices.' }) total!: number;
  @Field(() => Int, { description: 'Time-slices no desktop pod holds (0 when not Ready or cordoned).' })
  free!: number;
  @Field(() => Boolean) ready!: boolean;
  @Field(() => Boolean, { description: 'False when the node is cordoned.' }) schedulable!: boolean;
}

@ObjectType('Capacity', {
  description:
    'GPU time-slices of the cluster and sessions waiting for a place, from the watch caches. ' +
    'The scheduler has the final say.',
})
export class CapacityModel {
  @Field(() => Int, { description: 'Allocatable GPU time-slices of all GPU nodes.' }) gpuSlicesTotal!: number;
  @Field(() => Int, { description: 'Time-slices on Ready, schedulable nodes that no desktop holds.' })
  gpuSlicesFree!: number;
  @Field(() => Int, { description: 'Free time-slices on GPUs with NVENC.' }) nvencSlicesFree!: number;
  @Field(() => Int, { description: 'Sessions waiting for a place (phase Pending or Scheduling).' })
  sessionsWaiting!: number;
  @Field(() => [GpuProductCapacityModel]) products!: GpuProductCapacityModel[];
  @Field(() => [NodeCapacityModel], {
    nullable: true,
    description: 'Per-node rows; admins only (FORBIDDEN for others, the other fields still answer).',
  })
  nodes?: NodeCapacityModel[] | null;
}
