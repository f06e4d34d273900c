import { Inject } from '@nestjs/common';
import { Args, Field, InputType, Mutation, ObjectType, Query, Resolver } from '@nestjs/graphql';
import type { VDIShare, VDISession } from '@vdi/crd-types';
import { shareIsLive } from '@vdi/session-spec';
import { CurrentUser } from '../auth/current-user.js';
import type { Principal } from '../auth/principal.js';
import { API_CONFIG, type ApiConfig } from '../config.js';
import { SharesService } from './shares.service.js';

@InputType()
export class ShareSessionInput {
  @Field(() => String, { description: 'The name of one of your sessions.' })
  session!: string;
  @Field(() => String, {
    nullable: true,
    description: 'The identity-provider username to share with (give user or group).',
  })
  user?: string;
  @Field(() => String, { nullable: true, description: 'A group of the identity provider, e.g. team-a.' })
  group?: string;
  @Field(() => String, {
    description: 'view: the picture only (input dropped by the desktop); control: keyboard and mouse too.',
  })
  role!: string;
  @Field(() => String, {
    description: 'When the share ends (RFC 3339), in the future and at most 7 days ahead.',
  })
  expiresAt!: string;
}

@InputType()
export class UpdateShareInput {
  @Field(() => String, { description: 'The share (its name, from shares(session)).' })
  name!: string;
  @Field(() => String, { nullable: true, description: 'view or control.' })
  role?: string;
  @Field(() => String, { nullable: true, description: 'A new end (RFC 3339).' })
  expiresAt?: string;
}

@ObjectType('Share', { description: 'A session shared with a user or a group (VDIShare).' })
export class ShareModel {
  @Field(() => String) name!: string;
  @Field(() => String) session!: string;
  @Field(() => String, { nullable: true }) user!: string | null;
  @Field(() => String, { nullable: true }) group!: string | null;
  @Field(() => String, { description: 'view or control' }) role!: string;
  @Field(() => String) expiresAt!: string;
  @Field(() => Boolean, { description: 'Past expiresAt: admits nobody any more.' }) expired!: boolean;
  @Field(() => String, { nullable: true }) createdAt!: string | null;
  @Field(() => String, { nullable: true, description: 'When a grantee first opened the desktop under it.' })
  firstUsedAt!: string | null;
  @Field(() => String, { nullable: true }) firstUsedBy!: string | null;
}

@ObjectType('SharedSession', { description: 'A session someone shared with you, and where to open it.' })
export class SharedSessionModel {
  @Field(() => ShareModel) share!: ShareModel;
  @Field(() => String, { description: "The owner, as people read it (the session's user)." }) owner!: string;
  @Field(() => String, { nullable: true, description: 'The phase of the session (Running to open it).' })
  phase!: string | null;
  @Field(() => String, { description: 'The portal address that opens the desktop (one-time link).' })
  openUrl!: string;
}

@ObjectType('DesktopConnection', { description: 'A page connected to your desktop (Selkies).' })
export class DesktopConnectionModel {
  @Field(() => String) id!: string;
  @Field(() => String, { description: 'controller or viewer' }) role!: string;
  @Field(() => String, { nullable: true }) connectedAt!: string | null;
  @Field(() => [String], {
    description:
      'Who it may be: Selkies tells roles apart, not people (the users who used shares of that role).',
  })
  who!: string[];
}

export function toShareModel(s: VDIShare, now = Date.now()): ShareModel {
  return {
    name: s.metadata.name!,
    session: s.spec.session,
    user: s.spec.grantee.user ?? null,
    group: s.spec.grantee.group ?? null,
    role: s.spec.role,
    expiresAt: s.spec.expiresAt,
    expired: !shareIsLive(s, now),
    createdAt: s.metadata.creationTimestamp ? String(s.metadata.creationTimestamp) : null,
    firstUsedAt: s.status?.firstUsedAt ?? null,
    firstUsedBy: s.status?.firstUsedBy ?? null,
  };
}

@Resolver()
export class SharesResolver {
  constructor(
    private readonly service: SharesService,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  @Mutation(() => ShareModel, {
    description:
      'Shares one of your sessions with a user or a group until expiresAt. Sharing again with the same grantee updates the share.',
  })
  async shareSession(
    @CurrentUser() p: Principal,
    @Args('input', { type: () => ShareSessionInput }) input: ShareSessionInput,
  ): Promise<ShareModel> {
    return toShareModel(await this.service.share(p, input));
  }

  @Mutation(() => ShareModel, {
    description: "Changes a share's role or end; pages of the old role close and come back with the new one.",
  })
  async updateShare(
    @CurrentUser() p: Principal,
    @Args('input', { type: () => UpdateShareInput }) input: UpdateShareInput,
  ): Promise<ShareModel> {
    return toShareModel(await this.service.update(p, input.name, input));
  }

  @Mutation(() => ShareModel, {
    description: "Ends a share at once; its grantee's open pages close within seconds.",
  })
  async revokeShare(
    @CurrentUser() p: Principal,
    @Args('name', { type: () => String }) name: string,
  ): Promise<ShareModel> {
    return toShareModel(await this.service.revoke(p, name));
  }

  @Query(() => [ShareModel], { description: 'The shares of one of your sessions.' })
  async shares(
    @CurrentUser() p: Principal,
    @Args('session', { type: () => String }) session: string,
  ): Promise<ShareModel[]> {
    const now = Date.now();
    return (await this.service.list(p, session)).map((s) => toShareModel(s, now));
  }

  @Query(() => [SharedSessionModel], {
    description: 'Sessions shared with you (live shares), with the address to open each.',
  })
  sharedWithMe(@CurrentUser() p: Principal): SharedSessionModel[] {
    return this.service.sharedWithMe(p).map(({ share, session }) => ({
      share: toShareModel(share),
      owner: ownerText(session),
      phase: session?.status?.phase ?? null,
      openUrl: `${this.config.portalUrl}/open/${encodeURIComponent(share.spec.session)}`,
    }));
  }

  @Query(() => [DesktopConnectionModel], {
    description: 'The pages connected to one of your desktops now, by role (from the desktop itself).',
  })
  async desktopConnections(
    @CurrentUser() p: Principal,
    @Args('session', { type: () => String }) session: string,
  ): Promise<DesktopConnectionModel[]> {
    return (await this.service.connections(p, session)).map((c) => ({
      ...c,
      connectedAt: c.connectedAt ?? null,
    }));
  }
}

const ownerText = (s: VDISession | undefined) => s?.spec.user ?? 'unknown';
