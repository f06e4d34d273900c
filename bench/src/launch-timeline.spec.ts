import {
  containerdMarks,
  kubeletProbeReady,
  launchStages,
  launcherEvent,
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
  // The platform launcher's lines (images/desktop) and Selkies' own, as the pods/log API gives them.
  const log = [
    `${t(400)} [vdi-launcher] t_ms=0 event=start width=1280 height=720`,
    `${t(430)} E: [pulseaudio] core-util.c: Failed to connect to system bus`,
    `${t(410)} [vdi-launcher] t_ms=10 event=sound-spawned pid=12`,
    `${t(900)} [vdi-launcher] t_ms=500 event=x-up display=:0 size=1280x720`,
    `${t(1000)} [vdi-launcher] t_ms=600 event=selkies-spawned pid=41`,
    `${t(1010)} [vdi-launcher] t_ms=610 event=desktop-spawned pid=42 session=xfce`,
    // The sound server comes up beside Xvfb, here after it.
    `${t(1200)} [vdi-launcher] t_ms=800 event=sound-up pid=12 server=unix:/run/user/1000/pulse/native`,
    `${t(5850)} INFO:main:Selkies 2.1.0 starting: websockets transport, X11 (:0) capture`,
    `${t(6180)} INFO:server:Selkies server running on http://0.0.0.0:8080`,
    `${t(7000)} [vdi-launcher] t_ms=6600 event=restart child=desktop code=1`,
    `${t(7100)} [vdi-launcher] t_ms=6700 event=desktop-spawned pid=77 session=xfce`,
    `${t(9000)} INFO:server:Selkies server running on http://0.0.0.0:8080`,
    `${t(9500)} [vdi-launcher] t_ms=9100 event=stopping signal=SIGTERM`,
    `${t(9600)} [vdi-launcher] t_ms=9200 event=stopped`,
    'not a timestamped line',
  ].join('\n');
  const at = (ms: number) => Date.UTC(2026, 11, 4, 14, 0, 0, ms);

  it('marks the first line of each start-up step; a restart and the stop set none', () => {
    expect(podLogMarks(log)).toEqual({
      launcherUp: at(400),
      soundUp: at(1200),
      xUp: at(900),
      selkiesSpawned: at(1000),
      desktopSpawned: at(1010),
      selkiesStarting: at(5850),
      selkiesListening: at(6180),
    });
  });

  it('reads a launcher line’s event and fields, and nothing else', () => {
    expect(launcherEvent('[vdi-launcher] t_ms=610 event=desktop-spawned pid=42 session=xfce')).toEqual({
      event: 'desktop-spawned',
      fields: { t_ms: '610', pid: '42', session: 'xfce' },
    });
    expect(
      launcherEvent(
        '[vdi-launcher] t_ms=5 event=sound-failed reason="PulseAudio did not \\"serve\\" within 20 s" x=a=b',
      ),
    ).toEqual({
      event: 'sound-failed',
      fields: { t_ms: '5', reason: 'PulseAudio did not "serve" within 20 s', x: 'a=b' },
    });
    expect(launcherEvent('[vdi-launcher] t_ms=3')).toBeUndefined();
    expect(launcherEvent('[selkies-session] Xvfb serves display :0')).toBeUndefined();
    expect(launcherEvent('INFO:main:Selkies 2.1.0 starting')).toBeUndefined();
  });

  it('ends the sound and desktop steps when the launcher gives them up', () => {
    expect(
      podLogMarks(
        [
          `${t(10)} [vdi-launcher] t_ms=0 event=start`,
          `${t(30)} [vdi-launcher] t_ms=20 event=sound-failed reason="pulseaudio is not installed"`,
          `${t(90)} [vdi-launcher] t_ms=80 event=desktop-missing reason="no X11 session is installed; the display stays empty"`,
        ].join('\n'),
      ),
    ).toEqual({ launcherUp: at(10), soundUp: at(30), desktopSpawned: at(90) });
  });

  it('does not take a Selkies line for a launcher event or the other way round', () => {
    expect(
      podLogMarks(
        [
          `${t(10)} [vdi-launcher] t_ms=0 event=start`,
          `${t(20)} INFO:main:event=x-up is not a launcher line`,
        ].join('\n'),
      ),
    ).toEqual({ launcherUp: at(10) });
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

  it('leaves a mark beside the critical path (the sound server) out of the stages', () => {
    const stages = launchStages({
      containerStarted: 500,
      launcherUp: 700,
      xUp: 900,
      soundUp: 1400,
      selkiesSpawned: 950,
    });
    expect(stages.map((s) => [s.id, s.ms])).toEqual([
      ['containerStarted', 500],
      ['launcherUp', 200],
      ['xUp', 200],
      ['selkiesSpawned', 50],
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
