import { Query, Resolver } from '@nestjs/graphql';
import { CurrentUser } from '../auth/current-user.js';
import type { Principal } from '../auth/principal.js';
import { GpuUsageModel } from './usage.model.js';
import { UsageService } from './usage.service.js';

@Resolver(() => GpuUsageModel)
export class UsageResolver {
  constructor(private readonly service: UsageService) {}

  @Query(() => GpuUsageModel, {
    description: 'Your GPU time-slice hours this budget period, your budget and when it renews.',
  })
  usage(@CurrentUser() p: Principal): Promise<GpuUsageModel> {
    return this.service.usage(p);
  }

  @Query(() => [GpuUsageModel], {
    description: "Every user's GPU usage this period (admins only), most used first.",
  })
  usages(@CurrentUser() p: Principal): Promise<GpuUsageModel[]> {
    return this.service.usages(p);
  }
}
