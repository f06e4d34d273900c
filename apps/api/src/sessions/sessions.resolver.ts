import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { CurrentUser } from '../auth/current-user.js';
import type { Principal } from '../auth/principal.js';
import { CreateSessionInput } from './create-session.input.js';
import { SessionModel, toSessionModel } from './session.model.js';
import { SessionsService } from './sessions.service.js';

@Resolver(() => SessionModel)
export class SessionsResolver {
  constructor(private readonly service: SessionsService) {}

  @Query(() => [SessionModel], { description: "Your sessions; with all: true (admins only) everyone's." })
  sessions(
    @CurrentUser() p: Principal,
    @Args('all', { type: () => Boolean, nullable: true, defaultValue: false }) all: boolean,
  ): SessionModel[] {
    return this.service.list(p, all).map(toSessionModel);
  }

  @Query(() => SessionModel, { description: 'One of your sessions (any session for admins).' })
  async session(
    @CurrentUser() p: Principal,
    @Args('name', { type: () => String }) name: string,
  ): Promise<SessionModel> {
    return toSessionModel(await this.service.get(p, name));
  }

  @Mutation(() => SessionModel, { description: 'Launches a desktop owned by the caller.' })
  async createSession(
    @CurrentUser() p: Principal,
    @Args('input', { type: () => CreateSessionInput }) input: CreateSessionInput,
  ): Promise<SessionModel> {
    return toSessionModel(await this.service.create(p, input));
  }

  @Mutation(() => Boolean, { description: 'Starts deleting one of your sessions (any session for admins).' })
  deleteSession(
    @CurrentUser() p: Principal,
    @Args('name', { type: () => String }) name: string,
  ): Promise<boolean> {
    return this.service.delete(p, name);
  }
}
