import { Inject } from '@nestjs/common';
import { Query, ResolveField, Resolver, Parent } from '@nestjs/graphql';
import { CurrentUser } from '../auth/current-user.js';
import type { Principal } from '../auth/principal.js';
import { badInput, forbidden } from '../common/errors.js';
import { API_CONFIG, type ApiConfig } from '../config.js';
import { ApiCaches } from '../kube/caches.js';
import { CapacityModel, NodeCapacityModel } from './capacity.model.js';
import { gpuCapacity, waitingSessions, type NodeSlices } from '@vdi/session-spec';

/** What the `capacity` resolver hands to its field resolvers (the node rows are kept back for admins). */
type CapacityParent = CapacityModel & { nodeRows: NodeSlices[] };

@Resolver(() => CapacityModel)
export class CapacityResolver {
  constructor(
    private readonly caches: ApiCaches,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  @Query(() => CapacityModel, { description: 'GPU time-slices total and free, and sessions waiting.' })
  capacity(): CapacityParent {
    if (!this.caches.synced)
      throw badInput('the API is still loading the cluster state; try again in a moment');
    const c = gpuCapacity(this.caches.nodes.list(), this.caches.pods.list(), this.config.gpuResourceName);
    return {
      gpuSlicesTotal: c.total,
      gpuSlicesFree: c.free,
      nvencSlicesFree: c.nvencFree,
      sessionsWaiting: waitingSessions(this.caches.sessions.list(this.config.sessionsNamespace)),
      products: c.products,
      nodeRows: c.nodes,
    };
  }

  @ResolveField(() => [NodeCapacityModel], { nullable: true })
  nodes(@Parent() parent: CapacityParent, @CurrentUser() p: Principal): NodeCapacityModel[] {
    if (!p.isAdmin) throw forbidden('only admins may see per-node capacity (capacity.nodes)');
    return parent.nodeRows;
  }
}
