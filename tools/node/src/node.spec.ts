import { nodeUnsupportedReason } from './node.js';

describe('whether the node can run here', () => {
  it('names what is missing and how to get it, or that it needs root', () => {
    const why = nodeUnsupportedReason({
      kubernetesBinDir: '/nonexistent/k8s',
      containerdBinDir: '/nonexistent/containerd',
      criToolsBinDir: '/nonexistent/cri',
    });
    if (process.getuid?.() === 0) {
      expect(why).toContain('/nonexistent/k8s/kubelet');
      expect(why).toContain('/nonexistent/containerd/containerd-shim-runc-v2');
      expect(why).toContain('/nonexistent/cri/crictl');
      expect(why).toContain('npm run setup');
    } else {
      expect(why).toMatch(/^needs root/);
    }
  });
});
