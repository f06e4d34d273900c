import { Module } from '@nestjs/common';
import { ShareCache } from './share-cache.js';

/** The watched, indexed shares: read by forward-auth (access/) and the share API (shares.module.ts). */
@Module({
  providers: [ShareCache],
  exports: [ShareCache],
})
export class ShareCacheModule {}
