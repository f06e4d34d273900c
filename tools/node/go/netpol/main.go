// vdi-node-netpol enforces NetworkPolicies on the local cluster's real node the way K3s does: it
// runs kube-router's network-policy controller (github.com/cloudnativelabs/kube-router/v2,
// pkg/controllers/netpol) on its own, with iptables and ipset from the host. Nothing else of
// kube-router is built or run: no routing, no service proxy, no load-balancer allocator.
//
// It waits for its Node to be registered with an InternalIP (the controller finds the node's pods
// by that address), syncs the informers it needs (pods, namespaces, NetworkPolicies), and runs the
// controller until SIGTERM/SIGINT. The controller is kube-router's, unchanged; it is shown only the
// policies of namespaces that have a pod on this node (the others select no pod here), which keeps
// its full syncs cheap in a cluster with hundreds of simulated sessions. The rules it leaves behind
// are removed by the node's teardown (tools/node), not here: a crash leaves them too.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cloudnativelabs/kube-router/v2/pkg/controllers/netpol"
	"github.com/cloudnativelabs/kube-router/v2/pkg/healthcheck"
	"github.com/cloudnativelabs/kube-router/v2/pkg/options"
	v1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
)

func main() {
	if err := run(); err != nil {
		klog.Errorf("vdi-node-netpol: %v", err)
		os.Exit(1)
	}
}

func run() error {
	klog.InitFlags(nil)
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig of the controller's identity (read pods, namespaces, NetworkPolicies; get its Node)")
	nodeName := flag.String("node-name", "", "the Node whose pods are firewalled")
	serviceCIDR := flag.String("service-cluster-ip-range", "10.96.0.0/12", "the API server's --service-cluster-ip-range")
	nodePorts := flag.String("service-node-port-range", "30000-32767", "the API server's --service-node-port-range")
	syncPeriod := flag.Duration("sync-period", 5*time.Minute, "full resync period (changes are synced as they come)")
	heartbeatFile := flag.String("heartbeat-file", "", "file whose content is the time of the controller's last sync start (RFC 3339)")
	nodeWait := flag.Duration("node-wait", 5*time.Minute, "how long to wait for the Node to register with an InternalIP")
	flag.Parse()
	if *kubeconfig == "" || *nodeName == "" {
		return fmt.Errorf("--kubeconfig and --node-name are required")
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("needs root: it writes iptables rules and ipsets")
	}

	restConfig, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		return fmt.Errorf("kubeconfig %s: %w", *kubeconfig, err)
	}
	restConfig.UserAgent = "vdi-node-netpol"
	client, err := kubernetes.NewForConfig(restConfig)
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	if err := waitForNode(ctx, client, *nodeName, *nodeWait); err != nil {
		return err
	}

	config := options.NewKubeRouterConfig()
	config.RunFirewall = true
	config.RunRouter = false
	config.RunServiceProxy = false
	config.RunLoadBalancer = false
	config.EnableIPv4 = true
	config.EnableIPv6 = false
	config.HostnameOverride = *nodeName
	config.ClusterIPCIDRs = []string{*serviceCIDR}
	config.NodePortRange = *nodePorts
	config.IPTablesSyncPeriod = *syncPeriod
	config.MetricsEnabled = false

	// Only the informers the controller reads: it selects pods by namespace and labels, and the
	// node's own pods by their hostIP.
	factory := informers.NewSharedInformerFactory(client, 0)
	pods := factory.Core().V1().Pods().Informer()
	namespaces := factory.Core().V1().Namespaces().Informer()
	policies := factory.Networking().V1().NetworkPolicies().Informer()
	factory.Start(ctx.Done())
	syncCtx, cancelSync := context.WithTimeout(ctx, 2*time.Minute)
	defer cancelSync()
	if !cache.WaitForCacheSync(syncCtx.Done(), pods.HasSynced, namespaces.HasSynced, policies.HasSynced) {
		return fmt.Errorf("informers did not sync within 2m (is the API server up, and may %s list pods, namespaces and networkpolicies?)", restConfig.Host)
	}

	// The controller sees only the policies of namespaces that have a pod on this node: a policy
	// selects pods of its own namespace only, so the others change nothing here, and each one it
	// sees costs ipsets, chains and time in every full sync (hundreds of kwok sessions).
	localPolicies := &nodePolicies{SharedIndexInformer: policies, pods: pods.GetIndexer(), node: *nodeName}

	iptablesHandlers, ipsetHandlers, err := netpol.NewIPTablesHandlers(config)
	if err != nil {
		return err
	}
	var ipsetMutex sync.Mutex
	controller, err := netpol.NewNetworkPolicyController(client, config, pods, localPolicies, namespaces,
		&ipsetMutex, iptablesHandlers, ipsetHandlers)
	if err != nil {
		return fmt.Errorf("network policy controller: %w", err)
	}
	// Every event the controller gets starts a full sync. Events that cannot change this node's
	// rules are dropped before it: pods that are neither on this node nor a peer of one of its
	// policies (the simulated sessions' pods), and policies of namespaces without a pod here.
	relevant := &relevance{pods: pods.GetIndexer(), namespaces: namespaces.GetIndexer(), policies: localPolicies.GetIndexer(), node: *nodeName}
	podEvents := filtered(controller.PodEventHandler, relevant.pod)
	policyEvents := filtered(controller.NetworkPolicyEventHandler, relevant.policy)
	for _, h := range []struct {
		informer cache.SharedIndexInformer
		handler  cache.ResourceEventHandler
	}{{pods, podEvents}, {namespaces, controller.NamespaceEventHandler}, {policies, policyEvents}} {
		if _, err := h.informer.AddEventHandler(h.handler); err != nil {
			return err
		}
	}

	// The controller reports each sync's start on this channel (kube-router's health controller
	// would read it); record the time so the node can tell the controller is alive.
	heartbeats := make(chan *healthcheck.ControllerHeartbeat, 16)
	go func() {
		for hb := range heartbeats {
			if *heartbeatFile != "" {
				_ = os.WriteFile(*heartbeatFile, []byte(hb.LastHeartBeat.UTC().Format(time.RFC3339Nano)+"\n"), 0o644)
			}
		}
	}()

	klog.Infof("vdi-node-netpol: enforcing NetworkPolicies for the pods of node %s", *nodeName)
	stopCh := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go controller.Run(heartbeats, stopCh, &wg)
	<-ctx.Done()
	klog.Info("vdi-node-netpol: stopping (the rules stay until the node's teardown removes them)")
	close(stopCh)
	wg.Wait()
	return nil
}

// nodePolicies is the NetworkPolicy informer as the controller sees it: its indexer lists only the
// policies of namespaces with a pod on `node` (events still come from the full informer).
type nodePolicies struct {
	cache.SharedIndexInformer
	pods cache.Indexer
	node string
}

func (n *nodePolicies) GetIndexer() cache.Indexer {
	return &nodePolicyView{Indexer: n.SharedIndexInformer.GetIndexer(), pods: n.pods, node: n.node}
}

type nodePolicyView struct {
	cache.Indexer
	pods cache.Indexer
	node string
}

// List is all the controller reads of the policies (kube-router v2.1 pkg/controllers/netpol).
func (v *nodePolicyView) List() []interface{} {
	local := map[string]bool{}
	for _, obj := range v.pods.List() {
		if pod, ok := obj.(*v1.Pod); ok && pod.Spec.NodeName == v.node {
			local[pod.Namespace] = true
		}
	}
	var out []interface{}
	for _, obj := range v.Indexer.List() {
		if policy, ok := obj.(*networkingv1.NetworkPolicy); ok && local[policy.Namespace] {
			out = append(out, obj)
		}
	}
	return out
}

// relevance decides whether an object's change can change this node's rules.
type relevance struct {
	pods, namespaces, policies cache.Indexer
	node                       string
}

// pod: a pod on this node, or a pod some rule of this node's policies names as a peer (its
// address is in that rule's ipset).
func (r *relevance) pod(obj interface{}) bool {
	pod, ok := obj.(*v1.Pod)
	if !ok {
		return true // a tombstone or anything unexpected: let the controller decide
	}
	if pod.Spec.NodeName == r.node {
		return true
	}
	var podNs *v1.Namespace
	if o, exists, err := r.namespaces.GetByKey(pod.Namespace); err == nil && exists {
		podNs, _ = o.(*v1.Namespace)
	}
	for _, o := range r.policies.List() {
		policy, ok := o.(*networkingv1.NetworkPolicy)
		if !ok {
			continue
		}
		var peers []networkingv1.NetworkPolicyPeer
		for _, in := range policy.Spec.Ingress {
			peers = append(peers, in.From...)
		}
		for _, out := range policy.Spec.Egress {
			peers = append(peers, out.To...)
		}
		for _, peer := range peers {
			if peerSelects(peer, policy.Namespace, pod, podNs) {
				return true
			}
		}
	}
	return false
}

// peerSelects: whether a policy peer selects the pod (NetworkPolicyPeer semantics: a podSelector
// alone means the policy's namespace; a namespaceSelector alone means every pod of the selected
// namespaces; an ipBlock selects no pod). Unparsable selectors count as a match (sync anyway).
func peerSelects(peer networkingv1.NetworkPolicyPeer, policyNs string, pod *v1.Pod, podNs *v1.Namespace) bool {
	if peer.PodSelector == nil && peer.NamespaceSelector == nil {
		return false
	}
	if peer.NamespaceSelector == nil {
		if pod.Namespace != policyNs {
			return false
		}
	} else {
		sel, err := metav1.LabelSelectorAsSelector(peer.NamespaceSelector)
		if err != nil {
			return true
		}
		if podNs == nil || !sel.Matches(labels.Set(podNs.Labels)) {
			return false
		}
	}
	if peer.PodSelector == nil {
		return true
	}
	sel, err := metav1.LabelSelectorAsSelector(peer.PodSelector)
	return err != nil || sel.Matches(labels.Set(pod.Labels))
}

// policy: a policy of a namespace with a pod on this node. (One whose namespace just lost its last
// pod here leaves chains no pod uses; the next sync removes them.)
func (r *relevance) policy(obj interface{}) bool {
	policy, ok := obj.(*networkingv1.NetworkPolicy)
	if !ok {
		return true
	}
	for _, o := range r.pods.List() {
		if pod, ok := o.(*v1.Pod); ok && pod.Spec.NodeName == r.node && pod.Namespace == policy.Namespace {
			return true
		}
	}
	return false
}

// filtered passes an event on when `keep` holds for the object (before or after an update; its
// last state when deleted). A deletion whose last state is unknown (a tombstone) always passes.
func filtered(h cache.ResourceEventHandler, keep func(interface{}) bool) cache.ResourceEventHandler {
	return cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj interface{}) {
			if keep(obj) {
				h.OnAdd(obj, false)
			}
		},
		UpdateFunc: func(oldObj, newObj interface{}) {
			if keep(oldObj) || keep(newObj) {
				h.OnUpdate(oldObj, newObj)
			}
		},
		DeleteFunc: func(obj interface{}) {
			if _, unknown := obj.(cache.DeletedFinalStateUnknown); unknown || keep(obj) {
				h.OnDelete(obj)
			}
		},
	}
}

// waitForNode returns once the Node exists with an IPv4 InternalIP (the kubelet registers it and
// reports its addresses right after), or fails after `limit`.
func waitForNode(ctx context.Context, client kubernetes.Interface, name string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	logged := false
	for {
		node, err := client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err == nil && hasInternalIPv4(node) {
			return nil
		}
		if !logged {
			klog.Infof("vdi-node-netpol: waiting for node %s to register with an InternalIP", name)
			logged = true
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("node %s did not register with an InternalIP within %s (last error: %v)", name, limit, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func hasInternalIPv4(node *v1.Node) bool {
	for _, a := range node.Status.Addresses {
		if a.Type == v1.NodeInternalIP && len(a.Address) > 0 && !strings.Contains(a.Address, ":") {
			return true
		}
	}
	return false
}
