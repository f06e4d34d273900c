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
  sessionInformer,
  templateInformer,
  usageInformer,
  type Cache,
  type WarnFn,
} from './informers.js';
