import { Query, ResolveField, Resolver, Parent } from '@nestjs/graphql';
import { CurrentUser } from '../auth/current-user.js';
import type { Principal } from '../auth/principal.js';
import { badInput, forbidden } from '../common/errors.js';
import { ApiCaches } from '../kube/caches.js';
import { CapacityModel, NodeCapacityModel } from './capacity.model.js';
import type { NodeSlices } from '@vdi/session-spec';

/** What the `capacity` resolver hands to its field resolvers (the node rows are kept back for admins). */
type CapacityParent = CapacityModel & { nodeRows: NodeSlices[] };

@Resolver(() => CapacityModel)
export class CapacityResolver {
  constructor(private readonly caches: ApiCaches) {}

  @Query(() => CapacityModel, { description: 'GPU time-slices total and free, and sessions waiting.' })
  capacity(): CapacityParent {
    if (!this.caches.synced)
      throw badInput('the API is still loading the cluster state; try again in a moment');
    // Kept by the caches' events (kube/indexes.ts): nothing here walks the pods or sessions.
    const c = this.caches.indexes.gpuSlices.summary();
    return {
      gpuSlicesTotal: c.total,
      gpuSlicesFree: c.free,
      nvencSlicesFree: c.nvencFree,
      sessionsWaiting: this.caches.indexes.waitingSessions.count,
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
