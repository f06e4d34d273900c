import { metricBy, metricSum, serverLatencies } from './prom.js';

const scrape = (applySvc: [number, number], applyPod: [number, number]) => `# HELP x
apiserver_request_duration_seconds_sum{component="apiserver",dry_run="",group="",resource="services",scope="resource",subresource="",verb="APPLY",version="v1"} ${applySvc[0]}
apiserver_request_duration_seconds_count{component="apiserver",dry_run="",group="",resource="services",scope="resource",subresource="",verb="APPLY",version="v1"} ${applySvc[1]}
apiserver_request_duration_seconds_sum{component="apiserver",dry_run="",group="",resource="pods",scope="resource",subresource="status",verb="PATCH",version="v1"} ${applyPod[0]}
apiserver_request_duration_seconds_count{component="apiserver",dry_run="",group="",resource="pods",scope="resource",subresource="status",verb="PATCH",version="v1"} ${applyPod[1]}
vdi_operator_leader 1
vdi_operator_reconcile_errors_total{kind="retry"} 2
vdi_operator_reconcile_errors_total{kind="terminal"} 3
`;

describe('metricSum', () => {
  it('adds every series of a metric, and only that metric', () => {
    const t = scrape([1, 2], [3, 4]);
    expect(metricSum(t, 'vdi_operator_leader')).toBe(1);
    expect(metricSum(t, 'vdi_operator_reconcile_errors_total')).toBe(5);
    expect(metricSum(t, 'vdi_operator_reconcile_errors_total', 'kind="retry"')).toBe(2);
    expect(metricSum(t, 'vdi_operator_reconcile')).toBe(0);
  });
});

describe('metricBy', () => {
  it('sums by label values', () => {
    expect(
      metricBy(scrape([1, 2], [3, 4]), 'apiserver_request_duration_seconds_count', ['verb', 'resource']),
    ).toEqual({
      'APPLY services': 2,
      'PATCH pods': 4,
    });
  });
});

describe('serverLatencies', () => {
  it('gives the requests between two scrapes with their mean duration', () => {
    expect(serverLatencies(scrape([1, 2], [3, 4]), scrape([4, 5], [3.5, 14]))).toEqual({
      'APPLY services': { count: 3, meanMs: 1000 },
      'PATCH pods/status': { count: 10, meanMs: 50 },
    });
  });
  it('leaves out rare kinds', () => {
    expect(Object.keys(serverLatencies(scrape([1, 2], [3, 4]), scrape([4, 5], [3.5, 14]), 5))).toEqual([
      'PATCH pods/status',
    ]);
  });
});
