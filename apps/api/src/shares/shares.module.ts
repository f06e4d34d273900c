import { Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { ShareCacheModule } from './share-cache.module.js';
import { SharesResolver } from './shares.resolver.js';
import { SharesService } from './shares.service.js';

/** Sharing a desktop with a named colleague (VDIShare): the GraphQL API. Forward-auth's side is in access/. */
@Module({
  imports: [ShareCacheModule, SessionsModule, AccessModule],
  providers: [SharesService, SharesResolver],
})
export class SharesModule {}
