import { Inject } from '@nestjs/common';
import { Args, Int, Mutation, Parent, Query, ResolveField, Resolver, Subscription } from '@nestjs/graphql';
import { CurrentUser } from '../auth/current-user.js';
import type { Principal } from '../auth/principal.js';
import { API_CONFIG, type ApiConfig } from '../config.js';
import { ApiCaches } from '../kube/caches.js';
import { CreateSessionInput } from './create-session.input.js';
import type { SessionEvent } from './session-events.js';
import { SessionModel, sessionModelOf, toSessionModel } from './session.model.js';
import {
  decodeCursor,
  DEFAULT_PAGE_SIZE,
  encodeCursor,
  MAX_PAGE_SIZE,
  pageSize,
  SessionPageModel,
} from './session-page.js';
import { SessionChangeType, SessionUpdateModel } from './session-update.model.js';
import { SessionsService } from './sessions.service.js';

@Resolver(() => SessionModel)
export class SessionsResolver {
  constructor(
    private readonly service: SessionsService,
    private readonly caches: ApiCaches,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  /**
   * Its place in the GPU queue (see capacity/queue.ts), from the watch caches at the time of the
   * answer; a subscription gets it anew with each change of the session. The positions are
   * computed once per change of the queue (kube/indexes.ts GpuQueue), not once per session.
   */
  @ResolveField(() => Int, { nullable: true })
  queuePosition(@Parent() s: SessionModel): number | null {
    if (s.phase !== 'Scheduling' || s.namespace !== this.config.sessionsNamespace) return null;
    return this.caches.indexes.gpuQueue.positions().get(s.name) ?? null;
  }

  @Query(() => [SessionModel], {
    description:
      "Your sessions, by name; with all: true (admins only) everyone's in one answer — with many sessions, page through them with sessionPage(all: true).",
  })
  sessions(
    @CurrentUser() p: Principal,
    @Args('all', { type: () => Boolean, nullable: true, defaultValue: false }) all: boolean,
  ): SessionModel[] {
    return this.service.list(p, all).map(sessionModelOf);
  }

  @Query(() => SessionPageModel, {
    description:
      "Your sessions a page at a time, newest first (ties by name); with all: true (admins only) everyone's. " +
      'A walk from the first page to the last (passing each nextCursor as after) returns every session that existed ' +
      'when it began exactly once, whatever is created or deleted meanwhile.',
  })
  sessionPage(
    @CurrentUser() p: Principal,
    @Args('all', { type: () => Boolean, nullable: true, defaultValue: false }) all: boolean,
    @Args('first', {
      type: () => Int,
      nullable: true,
      defaultValue: DEFAULT_PAGE_SIZE,
      description: `Sessions per page, 1 to ${MAX_PAGE_SIZE}.`,
    })
    first: number | null,
    @Args('after', {
      type: () => String,
      nullable: true,
      description: "The previous page's nextCursor; leave out for the first page.",
    })
    after: string | null | undefined,
  ): SessionPageModel {
    const size = pageSize(first);
    const position = after != null ? decodeCursor(after) : undefined;
    const page = this.service.page(p, { all, first: size, ...(position ? { after: position } : {}) });
    return {
      items: page.items.map(sessionModelOf),
      nextCursor: page.next ? encodeCursor(page.next) : null,
      totalCount: page.total,
    };
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

  @Mutation(() => SessionModel, {
    description:
      "Moves the end of one of your sessions (status expiresAt) later by `by` (e.g. 30m, 1h; default 1h), at most to its template's lifetime.max.",
  })
  async extendSession(
    @CurrentUser() p: Principal,
    @Args('name', { type: () => String }) name: string,
    @Args('by', { type: () => String, defaultValue: '1h' }) by: string,
  ): Promise<SessionModel> {
    return toSessionModel(await this.service.extend(p, name, by));
  }

  @Mutation(() => SessionModel, {
    description:
      'Stops one of your sessions: its desktop ends and its GPU time-slice is freed; its name, URL, home and end are kept until you resume it (spec.state: Stopped). Save your work first: what is not in the home is lost.',
  })
  async stopSession(
    @CurrentUser() p: Principal,
    @Args('name', { type: () => String }) name: string,
  ): Promise<SessionModel> {
    return toSessionModel(await this.service.stop(p, name));
  }

  @Mutation(() => SessionModel, {
    description:
      'Resumes one of your stopped sessions: a new desktop starts with the same name, URL and home (it waits for a GPU time-slice when none is free), within your GPU quota.',
  })
  async resumeSession(
    @CurrentUser() p: Principal,
    @Args('name', { type: () => String }) name: string,
  ): Promise<SessionModel> {
    return toSessionModel(await this.service.resume(p, name));
  }

  @Mutation(() => Boolean, { description: 'Starts deleting one of your sessions (any session for admins).' })
  deleteSession(
    @CurrentUser() p: Principal,
    @Args('name', { type: () => String }) name: string,
  ): Promise<boolean> {
    return this.service.delete(p, name);
  }

  @Subscription(() => SessionUpdateModel, {
    description:
      'Changes of your sessions as they happen (over graphql-ws); with name: that one session; with ' +
      "all: true (admins only) everyone's. With current: true, first each of those sessions as it is now " +
      '(type CURRENT), then the changes: a page that read the state before subscribing misses no change made ' +
      'in between (a session may come twice; one deleted in between is just not among them). ' +
      "Authenticate in connection_init: { authorization: 'Bearer <token>' }.",
    resolve: (e: SessionEvent): SessionUpdateModel => ({
      type: SessionChangeType[e.type],
      session: sessionModelOf(e.session),
    }),
  })
  sessionUpdated(
    @CurrentUser() p: Principal,
    @Args('name', { type: () => String, nullable: true }) name: string | null | undefined,
    @Args('all', { type: () => Boolean, nullable: true, defaultValue: false }) all: boolean,
    @Args('current', {
      type: () => Boolean,
      nullable: true,
      defaultValue: false,
      description:
        'Start with each session the subscription covers as it is now (type CURRENT), then its changes; ' +
        'a session that changes before its CURRENT event is sent comes as that change instead.',
    })
    current: boolean | null,
  ): AsyncIterableIterator<SessionEvent> {
    return this.service.watch(p, { ...(name != null ? { name } : {}), all, current: current === true });
  }
}
