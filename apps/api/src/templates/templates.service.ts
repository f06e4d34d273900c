import { Injectable } from '@nestjs/common';
import type { VDITemplate } from '@vdi/crd-types';
import { ApiCaches } from '../kube/caches.js';

/** Templates as the cache holds them; every authenticated user may read them all. */
@Injectable()
export class TemplatesService {
  constructor(private readonly caches: ApiCaches) {}

  list(): VDITemplate[] {
    return [...this.caches.templates.list()].sort((a, b) => a.metadata.name!.localeCompare(b.metadata.name!));
  }

  get(name: string): VDITemplate | undefined {
    return this.caches.templates.get(name);
  }
}
