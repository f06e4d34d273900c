import {
  containerdMarks,
  kubeletProbeReady,
  launchStages,
  medianSpan,
  medianStages,
  podLogMarks,
  relativeTo,
  span,
} from './launch-timeline.js';

const UID = '99d3161e-3fa1-487c-bdce-65eb6d69d975';
const SANDBOX = 'beda9e556e96f741f302228da7529b1e9a2d6e4ab7751eb3de77f1971bf42bd9';
const CONTAINER = '381665f4d93da7ae10968723ebb116953f1c4e84852073602b0540ab09254b61';

// Lines as containerd 2.4 writes them (another pod's lines in between).
const CONTAINERD = [
  `time="2026-12-04T13:22:44.462238038Z" level=info msg="RunPodSandbox for name:\\"desk-a-b1e4\\"  uid:\\"${UID}\\"  namespace:\\"iso-d6e08d\\""`,
  `time="2026-12-04T13:22:44.500000000Z" level=info msg="RunPodSandbox for name:\\"other\\"  uid:\\"0000\\"  namespace:\\"x\\""`,
  `time="2026-12-04T13:22:44.621135101Z" level=info msg="connecting to shim ${SANDBOX}" address="unix:///run/vdi-node/s/ed2e" namespace=k8s.io protocol=ttrpc version=3`,
  `time="2026-12-04T13:22:44.798136622Z" level=info msg="RunPodSandbox for name:\\"desk-a-b1e4\\"  uid:\\"${UID}\\"  namespace:\\"iso-d6e08d\\" returns sandbox id \\"${SANDBOX}\\""`,
  `time="2026-12-04T13:22:44.821170904Z" level=info msg="CreateContainer within sandbox \\"${SANDBOX}\\" for container name:\\"desktop\\""`,
  `time="2026-12-04T13:22:44.852279617Z" level=info msg="CreateContainer within sandbox \\"${SANDBOX}\\" for name:\\"desktop\\" returns container id \\"${CONTAINER}\\""`,
  `time="2026-12-04T13:22:44.858039809Z" level=info msg="StartContainer for \\"${CONTAINER}\\""`,
  `time="2026-12-04T13:22:45.008468732Z" level=info msg="StartContainer for \\"${CONTAINER}\\" returns successfully"`,
].join('\n');

describe('containerd’s log', () => {
  it('finds the sandbox and the container of one pod by its uid, then their ids', () => {
    expect(containerdMarks(CONTAINERD, UID, 'desktop')).toEqual({
      sandboxStart: Date.parse('2026-12-04T13:22:44.462Z'),
      sandboxReady: Date.parse('2026-12-04T13:22:44.798Z'),
      containerCreated: Date.parse('2026-12-04T13:22:44.852Z'),
      containerStarted: Date.parse('2026-12-04T13:22:45.008Z'),
    });
  });

  it('finds nothing for another pod or container name', () => {
    expect(containerdMarks(CONTAINERD, 'nope', 'desktop')).toEqual({});
    expect(containerdMarks(CONTAINERD, UID, 'sidecar')).toEqual({
      sandboxStart: Date.parse('2026-12-04T13:22:44.462Z'),
      sandboxReady: Date.parse('2026-12-04T13:22:44.798Z'),
    });
  });
});

describe('the kubelet’s log', () => {
  const log = [
    'I1204 13:22:46.019729   10623 kubelet.go:2877] "SyncLoop (probe)" probe="readiness" status="not ready" pod="ns1/desk-a"',
    'I1204 13:22:49.021491   10623 prober.go:123] "Probe failed" probeType="Readiness" pod="ns1/desk-a"',
    'I1204 13:22:50.5201   10623 kubelet.go:2877] "SyncLoop (probe)" probe="readiness" status="ready" pod="ns1/desk-a"',
    'I1204 13:22:51.000000   10623 kubelet.go:2877] "SyncLoop (probe)" probe="readiness" status="ready" pod="ns1/desk-b"',
  ].join('\n');

  it('reads when the readiness probe first found the pod ready (local time, the given year)', () => {
    expect(kubeletProbeReady(log, 'ns1', 'desk-a', 2026)).toBe(
      new Date(2026, 11, 4, 13, 22, 50).getTime() + 520.1,
    );
    expect(kubeletProbeReady(log, 'ns1', 'desk-b', 2026)).toBe(new Date(2026, 11, 4, 13, 22, 51).getTime());
    expect(kubeletProbeReady(log, 'ns1', 'desk-c', 2026)).toBeUndefined();
  });
});

describe('the desktop’s own log', () => {
  const t = (ms: number) =>
    new Date(Date.UTC(2026, 11, 4, 14, 0, 0, ms)).toISOString().replace('Z', '123456Z');
  const log = [
    `${t(400)} INFO:settings:A manual resolution setting was activated; locking to manual mode.`,
    `${t(430)} E: [pulseaudio] core-util.c: Failed to connect to system bus`,
    `${t(600)} [selkies-session] pulseaudio serves the session's audio`,
    `${t(900)} [selkies-session] Xvfb serves display :0`,
    `${t(1400)} [selkies-session] the screen starts at 1280x720`,
    `${t(1410)} [selkies-session] desktop xfce on :0`,
    `${t(5850)} INFO:main:Selkies 2.1.0 starting: websockets transport, X11 (:0) capture`,
    `${t(6180)} INFO:server:Selkies server running on http://0.0.0.0:8080`,
    `${t(9000)} INFO:server:Selkies server running on http://0.0.0.0:8080`,
    'not a timestamped line',
  ].join('\n');
  const at = (ms: number) => Date.UTC(2026, 11, 4, 14, 0, 0, ms);

  it('marks the first line of each start-up step', () => {
    expect(podLogMarks(log)).toEqual({
      launcherUp: at(400),
      soundUp: at(600),
      xUp: at(900),
      screenSized: at(1400),
      desktopSpawned: at(1410),
      selkiesStarting: at(5850),
      selkiesListening: at(6180),
    });
  });

  it('knows a session without sound', () => {
    expect(
      podLogMarks(`${t(10)} [selkies-session] no sound server came up; the session has no audio`),
    ).toEqual({
      launcherUp: at(10),
      soundUp: at(10),
    });
  });
});

describe('stages of a launch', () => {
  it('cuts consecutive marks in critical-path order, whatever order they were given in', () => {
    const stages = launchStages({ podSeen: 300, sessionSeen: 100, firstFrame: 5000, podBound: 320 });
    expect(stages.map((s) => [s.id, s.ms, s.at])).toEqual([
      ['sessionSeen', 100, 100],
      ['podSeen', 200, 300],
      ['podBound', 20, 320],
      ['firstFrame', 4680, 5000],
    ]);
  });

  it('folds a missing mark into the next stage and names both', () => {
    const [, second] = launchStages({ sessionSeen: 100, podBound: 320 });
    expect(second!.label).toBe('operator: session → pod created + scheduler: pod bound to the node');
    expect(second!.ms).toBe(220);
  });

  it('takes medians per stage over the marks every launch has', () => {
    const med = medianStages([
      { sessionSeen: 100, podSeen: 300, firstFrame: 5000 },
      { sessionSeen: 200, podSeen: 250, firstFrame: 6000 },
      { sessionSeen: 150, firstFrame: 4000 },
    ]);
    // podSeen is missing once: its time folds into the first frame's stage everywhere.
    expect(med.map((s) => [s.id, s.ms])).toEqual([
      ['sessionSeen', 150],
      ['firstFrame', 4900],
    ]);
  });

  it('measures spans from the click or between marks, NaN when one is missing', () => {
    const l = { podBound: 400, containerStarted: 900, healthy: 3900 };
    expect(span(l, 'click', 'podBound')).toBe(400);
    expect(span(l, 'containerStarted', 'healthy')).toBe(3000);
    expect(span(l, 'healthy', 'firstFrame')).toBeNaN();
    expect(medianSpan([l, { ...l, healthy: 2900 }], 'containerStarted', 'healthy')).toBe(2500);
  });

  it('puts epoch marks on the click’s clock', () => {
    expect(relativeTo(1_000, { podSeen: 1_250, healthy: undefined })).toEqual({ podSeen: 250 });
  });
});
