import { Args, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import type { VDITemplate } from '@vdi/crd-types';
import { CurrentUser } from '../auth/current-user.js';
import type { Principal } from '../auth/principal.js';
import { forbidden } from '../common/errors.js';
import { TemplatePrepullModel, toPrepullModel } from './template-prepull.model.js';
import { CreateTemplateInput, TemplateInput } from './template.input.js';
import { TemplateModel, toTemplateModel } from './template.model.js';
import { TemplatesService } from './templates.service.js';

@Resolver(() => TemplateModel)
export class TemplatesResolver {
  constructor(private readonly service: TemplatesService) {}

  private model(t: VDITemplate): TemplateModel {
    return toTemplateModel(t, this.service.sessionCount(t.metadata.name!));
  }

  @ResolveField(() => TemplatePrepullModel, {
    nullable: true,
    description:
      "Admins: how many of the nodes the template's desktops can land on have its image (null while it has no puller: retired, or pre-pull off).",
  })
  prepull(@Parent() t: TemplateModel, @CurrentUser() p: Principal): TemplatePrepullModel | null {
    if (!p.isAdmin)
      throw forbidden("only admins may see where templates' images are pulled (Template.prepull)");
    return toPrepullModel(this.service.get(t.name)) ?? null;
  }

  @Query(() => [TemplateModel], {
    description:
      'The desktop kinds, sorted by name; retired ones too (retired: true), which take no new sessions.',
  })
  templates(): TemplateModel[] {
    return this.service.list().map((t) => this.model(t));
  }

  @Query(() => TemplateModel, { description: 'One template by name.' })
  template(@Args('name', { type: () => String }) name: string): TemplateModel {
    return this.model(this.service.find(name));
  }

  @Mutation(() => TemplateModel, {
    description:
      'Admins: creates a template. displayName and image are required; what is left out gets the CRD defaults. Checked against the CRD before anything is written.',
  })
  async createTemplate(
    @CurrentUser() p: Principal,
    @Args('input', { type: () => CreateTemplateInput }) input: CreateTemplateInput,
  ): Promise<TemplateModel> {
    return this.model(await this.service.create(p, input));
  }

  @Mutation(() => TemplateModel, {
    description:
      'Admins: changes the fields given (left out: kept; null: removed, or back to the default). New sessions use the new values; running ones keep theirs. ' +
      'With resourceVersion (Template.resourceVersion as read), refused when the template changed since.',
  })
  async updateTemplate(
    @CurrentUser() p: Principal,
    @Args('name', { type: () => String }) name: string,
    @Args('input', { type: () => TemplateInput }) input: TemplateInput,
    @Args('resourceVersion', { type: () => String, nullable: true }) resourceVersion?: string | null,
  ): Promise<TemplateModel> {
    return this.model(await this.service.update(p, name, input, resourceVersion ?? undefined));
  }

  @Mutation(() => TemplateModel, {
    description:
      'Admins: retires a template: createSession refuses new sessions of it and the portal stops offering it; its existing sessions keep running.',
  })
  async retireTemplate(
    @CurrentUser() p: Principal,
    @Args('name', { type: () => String }) name: string,
  ): Promise<TemplateModel> {
    return this.model(await this.service.setRetired(p, name, true));
  }

  @Mutation(() => TemplateModel, {
    description: 'Admins: restores a retired template: it takes new sessions again.',
  })
  async restoreTemplate(
    @CurrentUser() p: Principal,
    @Args('name', { type: () => String }) name: string,
  ): Promise<TemplateModel> {
    return this.model(await this.service.setRetired(p, name, false));
  }

  @Mutation(() => Boolean, {
    description:
      'Admins: deletes a template no session uses (refused, with the count, while any does; retire it instead).',
  })
  deleteTemplate(
    @CurrentUser() p: Principal,
    @Args('name', { type: () => String }) name: string,
  ): Promise<boolean> {
    return this.service.delete(p, name);
  }
}
