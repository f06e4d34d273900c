import { Args, Int, Mutation, Query, Resolver } from '@nestjs/graphql';
import { CurrentUser } from '../auth/current-user.js';
import type { Principal } from '../auth/principal.js';
import { CreatePoolInput, PoolModel, PoolScheduleInput, toPoolModel } from './pool.model.js';
import { parseNodeSelector, PoolsService } from './pools.service.js';

@Resolver(() => PoolModel)
export class PoolsResolver {
  constructor(private readonly service: PoolsService) {}

  @Query(() => [PoolModel], {
    description: 'Admins: the warm pools, sorted by name, with their warm, starting and claimed counts.',
  })
  async pools(@CurrentUser() p: Principal): Promise<PoolModel[]> {
    return (await this.service.list(p)).map(toPoolModel);
  }

  @Mutation(() => PoolModel, {
    description:
      "Admins: creates a warm pool of a poolable template (persistence none, websockets). Refused, with nothing changed, for an unknown or unpoolable template, a size below 0 or above the maximum, or one beyond the cluster's free capacity.",
  })
  async createPool(
    @CurrentUser() p: Principal,
    @Args('input', { type: () => CreatePoolInput }) input: CreatePoolInput,
  ): Promise<PoolModel> {
    const nodeSelector = parseNodeSelector(input.nodeSelector);
    return toPoolModel(
      await this.service.create(
        p,
        input.name,
        input.template,
        input.size,
        {
          ...(nodeSelector ? { nodeSelector } : {}),
          ...(input.gpuProduct ? { gpuProduct: input.gpuProduct } : {}),
        },
        input.schedule,
      ),
    );
  }

  @Mutation(() => PoolModel, {
    description:
      "Admins: sets how many warm desktops a pool keeps (0 keeps the pool with none). Refused beyond the maximum or the cluster's free capacity.",
  })
  async scalePool(
    @CurrentUser() p: Principal,
    @Args('name', { type: () => String }) name: string,
    @Args('size', { type: () => Int }) size: number,
  ): Promise<PoolModel> {
    return toPoolModel(await this.service.scale(p, name, size));
  }

  @Mutation(() => PoolModel, {
    description:
      "Admins: sets a pool's schedule (weekly windows with their own size, in an IANA time zone), or removes it with null. Refused, with nothing changed, for an unknown time zone, a day other than Mon..Sun, a time not HH:MM, a window starting where it ends, a size beyond the maximum, or a largest size beyond the cluster's free capacity.",
  })
  async updatePoolSchedule(
    @CurrentUser() p: Principal,
    @Args('name', { type: () => String }) name: string,
    @Args('schedule', { type: () => PoolScheduleInput, nullable: true }) schedule: PoolScheduleInput | null,
  ): Promise<PoolModel> {
    return toPoolModel(await this.service.setSchedule(p, name, schedule ?? null));
  }

  @Mutation(() => Boolean, {
    description: 'Admins: deletes a pool and its unclaimed desktops; claimed ones stay with their sessions.',
  })
  deletePool(
    @CurrentUser() p: Principal,
    @Args('name', { type: () => String }) name: string,
  ): Promise<boolean> {
    return this.service.delete(p, name);
  }
}
