export {
  KubeJsonClient,
  KubeApiError,
  type KubeObject,
  type RawResponse,
  type Stored,
  type StoredMeta,
} from './client.js';
export {
  InformerSet,
  childInformer,
  claimInformer,
  nodeInformer,
  podInformer,
  sessionInformer,
  templateInformer,
  usageInformer,
  type Cache,
  type WarnFn,
} from './informers.js';
export {
  childMetadata,
  makeTransformingInformer,
  pagedList,
  LIST_PAGE_SIZE,
  slimNode,
  slimPod,
  withoutManagedFields,
  type ChildKeys,
  type Transform,
} from './slim.js';
export { StringPool, cachePool } from './intern.js';
