import { Module } from '@nestjs/common';
import { PoolsResolver } from './pools.resolver.js';
import { PoolsService } from './pools.service.js';

@Module({ providers: [PoolsService, PoolsResolver] })
export class PoolsModule {}
