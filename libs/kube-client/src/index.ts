export {
  KubeJsonClient,
  KubeApiError,
  type KubeObject,
  type RawResponse,
  type Stored,
  type StoredMeta,
} from './client.js';
