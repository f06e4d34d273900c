/**
 * The operator as a subclass of @dot-i/k8s-operator's Operator, the framework the design asks
 * for. Its watches are used only as wake-up signals: every event becomes a key in the work queue
 * and nothing else (the framework runs callbacks one at a time, swallows handler errors and
 * re-watches without a resourceVersion; none of that matters for a key that is de-duplicated and
 * reconciled from the caches). All writes go through @kubernetes/client-node 1.4 (kube-client).
 *
 * Note: the framework ends the process when a watch fails (process.exit(1)); the Deployment
 * restarts it, and a level-triggered reconcile loses nothing by that.
 */
import framework from '@dot-i/k8s-operator';
import type { OperatorLogger, ResourceEvent } from '@dot-i/k8s-operator';
import { GROUP, PLURAL_SESSION, PLURAL_TEMPLATE, VERSION, type VDISession } from '@vdi/crd-types';

// The framework is CommonJS with `exports.default`: from ESM its class is `.default`.
const Operator = framework.default;

export interface WakeUps {
  /** `object` is the event's copy of the session (for its priority only; reconcile reads the cache). */
  session(namespace: string, name: string, object: VDISession, deleted: boolean): void;
  /**
   * `resourceVersion`: the event's version of the template (a deletion passes none); `generation`:
   * the version of its spec (a status write leaves it).
   */
  template(name: string, resourceVersion: string | undefined, generation: number | undefined): void;
}

export class VdiSessionOperator extends Operator {
  constructor(
    private readonly namespace: string,
    private readonly wake: WakeUps,
    logger: OperatorLogger,
  ) {
    super(logger);
  }

  protected async init(): Promise<void> {
    await this.watchResource(
      GROUP,
      VERSION,
      PLURAL_SESSION,
      async (e: ResourceEvent) =>
        this.wake.session(
          e.meta.namespace ?? this.namespace,
          e.meta.name,
          e.object as VDISession,
          // The framework's enum lives in its CommonJS module: compared by value.
          String(e.type) === 'DELETED',
        ),
      this.namespace,
    );
    await this.watchResource(GROUP, VERSION, PLURAL_TEMPLATE, async (e: ResourceEvent) =>
      this.wake.template(
        e.meta.name,
        String(e.type) === 'DELETED' ? undefined : e.meta.resourceVersion,
        (e.object as { metadata?: { generation?: number } }).metadata?.generation,
      ),
    );
  }
}
