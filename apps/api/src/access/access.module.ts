import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { ShareCacheModule } from '../shares/share-cache.module.js';
import { AccessResolver } from './access.resolver.js';
import { AccessService } from './access.service.js';
import { ForwardAuthController } from './forward-auth.controller.js';
import { IdentityLiveness } from './liveness.js';
import { RevocationLoop } from './revocation.js';
import { SessionKeyCheck } from './session-key-check.js';

@Module({
  imports: [SessionsModule, AuthModule, ShareCacheModule],
  providers: [AccessService, AccessResolver, IdentityLiveness, RevocationLoop, SessionKeyCheck],
  controllers: [ForwardAuthController],
  // The share API checks grantees with the same realm admin client (realm-admin.ts).
  exports: [IdentityLiveness],
})
export class AccessModule {}
