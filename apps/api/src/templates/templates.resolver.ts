import { Query, Resolver } from '@nestjs/graphql';
import { TemplateModel, toTemplateModel } from './template.model.js';
import { TemplatesService } from './templates.service.js';

@Resolver(() => TemplateModel)
export class TemplatesResolver {
  constructor(private readonly service: TemplatesService) {}

  @Query(() => [TemplateModel], { description: 'The desktop kinds, sorted by name.' })
  templates(): TemplateModel[] {
    return this.service.list().map(toTemplateModel);
  }
}
