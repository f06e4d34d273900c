// The local-path provisioner as a process of the local cluster (started by `cluster up`).
import * as k8s from '@kubernetes/client-node';
import { runProvisioner } from './local-path.js';

const kc = new k8s.KubeConfig();
kc.loadFromFile(process.argv[2] ?? process.env.KUBECONFIG ?? '');
// argv[3]: the cluster's storage folder, where volumes on the real node are real folders.
await runProvisioner(kc, (m) => process.stdout.write(`${new Date().toISOString()} ${m}\n`), process.argv[3]);
