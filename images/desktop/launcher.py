"""The desktop image's launcher: Xvfb, PulseAudio, Selkies and the XFCE session, started fast and
stopped clean. The entrypoint execs it (`python3 -I launcher.py [--session NAME] [selkies args]`)
after its checks; it replaces `selkies-session`, whose argument and environment semantics it keeps.

Why not `selkies-session`: it starts the sound server, Xvfb, a second Python for `selkies resize`,
the desktop and Selkies one after another. Here Xvfb (already at the stream's size) and PulseAudio
start together, Selkies starts the moment the display answers, and the desktop starts beside it at
nice 5 so Selkies' imports win the CPU. Selkies' own first frame is what the user waits for.

Lifecycle:
- The desktop session and the sound server are restarted when they die, at most once per 10 s
  each. Selkies or Xvfb dying ends the launcher with a non-zero status (the kubelet restarts the
  container).
- SIGTERM/SIGINT/SIGHUP: Selkies stops first (its capture closes before its display), then every
  process the launcher started, found by process group, by the `VDI_LAUNCHER_PID` marker every
  child inherits in its environment, and as the child subreaper every orphan reparents to. Exit 0
  with nothing left.

Each event is one logfmt line on stderr, `[vdi-launcher] t_ms=<ms since start> event=<name> ...`
(the events are listed in images/desktop/README.md; the benchmark parses them).

Python's standard library only: it runs on Debian's Python 3.11, outside Selkies' venv.
"""

import ctypes
import os
import select
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional, Tuple

T0 = time.monotonic()
MARKER = "VDI_LAUNCHER_PID"
# At most one restart of the desktop (or the sound server) per this many seconds: a session that
# dies at once again is not restarted in a tight loop.
RESTART_INTERVAL_S = 10.0
# Selkies' own interpreter (its venv) and module; `-m selkies` as selkies-session ran it.
SELKIES = ["/opt/selkies/bin/python3", "-m", "selkies"]
# The screen when no manual size is set: what selkies-session started at.
START_SIZE = (1920, 1080)
# The framebuffer a client-resizable screen grows inside (selkies-session's): Xvfb's RandR can
# shrink a screen, never grow it past the size it started with.
RESIZABLE_FRAMEBUFFER = (8192, 4096)
# -s 0 -dpms: the server never blanks what is streamed.
XVFB_ARGS = ["-nolisten", "tcp", "-noreset", "-s", "0", "-dpms"]
X11_SOCKET_DIR = "/tmp/.X11-unix"
# Where xfce4-session's ICE (XSMP) listener puts its socket; only root may create it, as a host's
# boot does, so the launcher makes it (world-writable, sticky) in the container's own /tmp.
ICE_SOCKET_DIR = "/tmp/.ICE-unix"
# A host session's variables must not reach this one (as selkies-session drops them).
HOST_SESSION_VARS = ("DISPLAY", "WAYLAND_DISPLAY", "XAUTHORITY", "DBUS_SESSION_BUS_ADDRESS",
                     "PIPEWIRE_RUNTIME_DIR", "PULSE_RUNTIME_PATH")
SELKIES_STOP_S = 10.0
REST_STOP_S = 5.0
SOUND_WAIT_S = 20.0
X_WAIT_S = 30.0
PR_SET_CHILD_SUBREAPER = 36


def log(event: str, **fields: object) -> None:
    """One logfmt line: `[vdi-launcher] t_ms=<int> event=<name> key=value ...`."""
    parts = [f"t_ms={int((time.monotonic() - T0) * 1000)}", f"event={event}"]
    for key, value in fields.items():
        text = str(value)
        if text == "" or any(c in text for c in ' "=\\\n'):
            text = '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
        parts.append(f"{key}={text}")
    sys.stderr.write("[vdi-launcher] " + " ".join(parts) + "\n")
    sys.stderr.flush()


def truthy(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


def selkies_setting(args: List[str], name: str) -> str:
    """A Selkies setting as its parser reads it: `--kebab-name[=value]` (a bare boolean flag is
    true), else `SELKIES_<NAME>`; empty means Selkies' default."""
    flag = "--" + name.replace("_", "-")
    for i, arg in enumerate(args):
        if arg == flag:
            following = args[i + 1] if i + 1 < len(args) else ""
            return following if following and not following.startswith("--") else "true"
        if arg.startswith(flag + "="):
            return arg[len(flag) + 1:]
    return os.environ.get("SELKIES_" + name.upper(), "")


def to_int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        return 0


def screen_plan(args: List[str]) -> Tuple[Tuple[int, int], bool]:
    """The screen's start size, and whether a client may resize it beyond that (then the
    framebuffer is the large one and `selkies resize` sizes the screen inside it). A manual
    width or height locks the size as Selkies' settings do (a missing one is 1024 or 768)."""
    width = to_int(selkies_setting(args, "manual_width"))
    height = to_int(selkies_setting(args, "manual_height"))
    if truthy(selkies_setting(args, "manual_resolution")) or width > 0 or height > 0:
        return (width if width > 0 else 1024, height if height > 0 else 768), False
    resize = selkies_setting(args, "enable_resize")
    return START_SIZE, resize == "" or truthy(resize)


def answers(path: str) -> bool:
    """Whether the Unix socket at `path` accepts a connection."""
    with socket.socket(socket.AF_UNIX) as probe:
        try:
            probe.connect(path)
            return True
        except OSError:
            return False


def read_entry(path: str) -> Dict[str, str]:
    """The `[Desktop Entry]` keys of a desktop file."""
    entry: Dict[str, str] = {}
    group = ""
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            line = line.strip()
            if line.startswith("["):
                group = line
            elif group == "[Desktop Entry]" and "=" in line and not line.startswith("#"):
                key, _, value = line.partition("=")
                entry.setdefault(key.strip(), value.strip())
    return entry


def pick_session(wanted: str) -> Tuple[str, Dict[str, str]]:
    """The X11 session a display manager would start: the one `wanted` names (a session file's
    name, else a command), else the one XDG_CURRENT_DESKTOP names, else the first installed.
    The user's data directory comes first, as for selkies-session."""
    dirs = [os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share")]
    dirs += (os.environ.get("XDG_DATA_DIRS") or "/usr/local/share:/usr/share").split(":")
    found: Dict[str, Dict[str, str]] = {}
    for folder in (os.path.join(d, "xsessions") for d in dirs if d):
        for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else ():
            if name.endswith(".desktop"):
                try:
                    found.setdefault(name[:-len(".desktop")], read_entry(os.path.join(folder, name)))
                except OSError:
                    continue
    usable = {sid: e for sid, e in sorted(found.items()) if e.get("Exec") and e.get("Hidden") != "true"
              and (not e.get("TryExec") or shutil.which(e["TryExec"]))}
    hints = [wanted] if wanted else os.environ.get("XDG_CURRENT_DESKTOP", "").split(":")
    for hint in (h.lower() for h in hints if h):
        for sid, entry in usable.items():
            names = entry.get("DesktopNames", "").lower().replace(":", ";").split(";")
            if hint in (sid.lower(), *names):
                return sid, entry
    if wanted:
        return "", {"Exec": wanted}
    return next(iter(usable.items()), ("", {}))


def parse_args(argv: List[str]) -> Tuple[str, List[str]]:
    """`--session NAME` (or `--session=NAME`) is the launcher's; every other argument is Selkies'."""
    session, rest, i = "", [], 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--session" and i + 1 < len(argv):
            session, i = argv[i + 1], i + 2
            continue
        if arg.startswith("--session="):
            session = arg[len("--session="):]
        elif not (arg == "--" and not rest):
            rest.append(arg)
        i += 1
    return session, rest


def exit_code(status: int) -> int:
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


class Launcher:
    def __init__(self, argv: List[str]) -> None:
        self.pid = os.getpid()
        self.session_hint, self.selkies_args = parse_args(argv)
        self.size, self.resizable = screen_plan(self.selkies_args)
        base = os.environ.get("XDG_RUNTIME_DIR") or ""
        # A directory of its own in XDG_RUNTIME_DIR (mkdtemp: 0700): a container restarted in the
        # same pod keeps the emptyDir, and must not meet the last run's sockets.
        usable = os.path.isdir(base) and os.access(base, os.W_OK)
        self.runtime_dir = tempfile.mkdtemp(prefix="vdi-session-", dir=base if usable else None)
        os.chmod(self.runtime_dir, 0o700)
        self.env = {k: v for k, v in os.environ.items() if k not in HOST_SESSION_VARS}
        self.env.update(XDG_RUNTIME_DIR=self.runtime_dir, **{MARKER: str(self.pid)})
        self.procs: Dict[int, subprocess.Popen] = {}  # running children; reap() collects them, never Popen
        self.role: Dict[int, str] = {}  # pid -> xvfb | sound | selkies | desktop
        self.running: Dict[str, int] = {}  # role -> pid while it runs
        self.started_at: Dict[str, float] = {}
        self.restart_due: Dict[str, float] = {}
        self.stop_signal = 0
        self.exit_status: Optional[int] = None
        self.display = ""
        self.x_pipe: Optional[int] = None
        self.x_line = b""
        self.x_glx = True
        self.sound_state = "none"  # starting | up | failed | external
        self.sound_socket = os.path.join(self.runtime_dir, "pulse", "native")
        self.wake_r, wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(wake_w, False)
        signal.set_wakeup_fd(wake_w)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, self.on_stop_signal)
        signal.signal(signal.SIGCHLD, lambda *_: None)  # a handler, so SIGCHLD wakes the loop

    def on_stop_signal(self, signum: int, _frame: object) -> None:
        if not self.stop_signal:
            self.stop_signal = signum

    # --- starting ---------------------------------------------------------------------------

    def spawn(self, role: str, argv: List[str], env: Optional[Dict[str, str]] = None, nice: int = 0,
              pass_fds: Tuple[int, ...] = ()) -> int:
        """A child in a process group of its own (so all it started can be signalled together)."""
        def child() -> None:
            if nice:
                os.nice(nice)
        proc = subprocess.Popen(argv, env=env or self.env, stdin=subprocess.DEVNULL, process_group=0,
                                pass_fds=pass_fds, preexec_fn=child if nice else None)
        self.procs[proc.pid] = proc
        self.role[proc.pid] = role
        self.running[role] = proc.pid
        self.started_at[role] = time.monotonic()
        return proc.pid

    def start_x(self) -> None:
        """Xvfb at the screen's size; its display number arrives on -displayfd once it accepts
        connections. It admits only the session's cookie."""
        auth = os.path.join(self.runtime_dir, "Xauthority")
        if not os.path.exists(auth):
            with open(auth, "wb") as fh:  # one FamilyWild entry: the display number is Xvfb's pick
                fh.write(struct.pack(">HHHH18sH16s", 0xFFFF, 0, 0, 18, b"MIT-MAGIC-COOKIE-1", 16, os.urandom(16)))
        self.env["XAUTHORITY"] = auth
        fb = RESIZABLE_FRAMEBUFFER if self.resizable else self.size
        extra = ["+extension", "GLX"] if self.x_glx else ["-extension", "GLX"]
        node = os.environ.get("SELKIES_RENDER_DRI", "") or next(
            iter(sorted(p for p in _listdir("/dev/dri") if p.startswith("renderD"))), "")
        if node and self.x_glx:
            node = node if node.startswith("/") else f"/dev/dri/{node}"
            usage = subprocess.run(["Xvfb", "-help"], capture_output=True, text=True)
            if "-glamor" in usage.stdout + usage.stderr:
                extra += ["-glamor", "-dri", node]
        read, write = os.pipe()
        self.spawn("xvfb", ["Xvfb", "-displayfd", str(write), "-auth", auth, "-screen", "0",
                            f"{fb[0]}x{fb[1]}x24", *XVFB_ARGS, *extra], pass_fds=(write,))
        os.close(write)
        self.x_pipe = read

    def start_sound(self) -> None:
        """PulseAudio in the session's runtime directory, unless PULSE_SERVER names one that answers."""
        named = os.environ.get("PULSE_SERVER", "")
        path = named[len("unix:"):] if named.startswith("unix:") else named if named.startswith("/") else ""
        if named and (not path or answers(path)):
            self.sound_state = "external"
            log("sound-up", server=named, external="true")
            return
        if not shutil.which("pulseaudio"):
            self.sound_state = "failed"
            log("sound-failed", reason="pulseaudio is not installed")
            return
        self.env["PULSE_SERVER"] = f"unix:{self.sound_socket}"
        # Without the display (a restart comes after it is up): PulseAudio would autolaunch a
        # D-Bus of its own through X11 (dbus-launch) and load X11 modules it has no use for here.
        env = {k: v for k, v in self.env.items() if k not in ("DISPLAY", "XAUTHORITY", "PULSE_SERVER")}
        pid = self.spawn("sound", ["pulseaudio", "--daemonize=no", "--exit-idle-time=-1"], env=env)
        self.sound_state = "starting"
        log("sound-spawned", pid=pid)

    def resize_screen(self) -> None:
        """Only for a client-resizable screen (no manual size): size it inside the large
        framebuffer with Selkies' own tool, as selkies-session did. The platform's pods set a
        manual size and never take this path."""
        size = "%dx%d" % self.size
        try:
            subprocess.run([*SELKIES, "resize", size], env=self.env, stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=30)
        except subprocess.TimeoutExpired:
            log("resize-failed", size=size)

    def start_selkies(self) -> None:
        env = dict(self.env)
        preload = os.environ.get("SELKIES_PRELOAD", "")
        if preload:  # libraries for Selkies alone (selkies-session's SELKIES_PRELOAD)
            env["LD_PRELOAD"] = ":".join(p for p in (preload, env.get("LD_PRELOAD", "")) if p)
        audio = ["--audio-enabled=false"] if self.sound_state == "failed" else []
        pid = self.spawn("selkies", [*SELKIES, *audio, *self.selkies_args], env=env)
        log("selkies-spawned", pid=pid)

    def start_desktop(self) -> None:
        sid, entry = pick_session(self.session_hint)
        if not entry:
            log("desktop-missing", reason="no X11 session is installed; the display stays empty")
            return
        env = dict(self.env, XDG_SESSION_TYPE="x11")
        names = entry.get("DesktopNames", "").strip(";").replace(";", ":")
        if names:
            env["XDG_CURRENT_DESKTOP"] = names
        else:
            env.pop("XDG_CURRENT_DESKTOP", None)
        if sid:
            env.update(XDG_SESSION_DESKTOP=sid, DESKTOP_SESSION=sid)
        # Selkies' interposers serve the session's applications; Selkies keeps the real devices.
        preload = [env.get(v, "") for v in ("SELKIES_INTERPOSER", "SELKIES_WEBCAM_INTERPOSER")]
        preload = [p for p in preload if os.path.isfile(p)] + [p for p in env.get("LD_PRELOAD", "").split(":") if p]
        if preload:
            env["LD_PRELOAD"] = ":".join(preload)
        try:
            os.mkdir(ICE_SOCKET_DIR)
            os.chmod(ICE_SOCKET_DIR, 0o1777)  # mkdir's mode passes through the umask
        except FileExistsError:
            pass
        except OSError as err:
            log("ice-dir-failed", path=ICE_SOCKET_DIR, reason=err.strerror or str(err))
        bus = ["dbus-run-session", "--"] if shutil.which("dbus-run-session") else []
        pid = self.spawn("desktop", bus + shlex.split(entry["Exec"]), env=env, nice=5)
        log("desktop-spawned", pid=pid, session=sid or entry["Exec"])

    def on_x_ready(self) -> None:
        """The display number arrived: confirm the socket answers, then Selkies and the desktop."""
        assert self.x_pipe is not None
        # Xvfb writes the number and its newline in two writes: wait for the line (or EOF).
        chunk = os.read(self.x_pipe, 64)
        self.x_line += chunk
        if chunk and b"\n" not in self.x_line:
            return
        number = self.x_line.decode(errors="replace").strip()
        self.x_line = b""
        os.close(self.x_pipe)
        self.x_pipe = None
        if not number:  # Xvfb exited before it served; a GLX it could not load is the usual cause
            if self.x_glx:
                self.x_glx = False
                log("x-retry", reason="Xvfb exited before serving; starting it without GLX")
                self.start_x()
                return
            self.fail("Xvfb exited before it served a display")
            return
        deadline = time.monotonic() + 5
        while not answers(f"{X11_SOCKET_DIR}/X{number}") and time.monotonic() < deadline:
            time.sleep(0.01)
        self.display = f":{number}"
        self.env["DISPLAY"] = self.display
        log("x-up", display=self.display, size="%dx%d" % self.size, pid=self.running.get("xvfb", ""),
            glx="true" if self.x_glx else "false")
        if self.resizable:
            self.resize_screen()
        self.start_selkies()
        self.start_desktop()

    # --- running ----------------------------------------------------------------------------

    def fail(self, reason: str, status: int = 1) -> None:
        log("error", reason=reason)
        if self.exit_status is None:
            self.exit_status = status

    def reap(self) -> None:
        """Collect every exited child: the launcher's own, and the orphans it adopted."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            role = self.role.pop(pid, None)
            proc = self.procs.pop(pid, None)
            if proc is not None:  # its status is taken: Popen must never wait on a reused pid
                proc.returncode = os.waitstatus_to_exitcode(status)
            if role and self.running.get(role) == pid:
                del self.running[role]
                self.on_exit(role, pid, exit_code(status))

    def on_exit(self, role: str, pid: int, code: int) -> None:
        if self.stop_signal:
            return
        log("exited", what=role, pid=pid, status=code)
        if role == "selkies":
            self.fail(f"Selkies exited with status {code}", code or 1)
        elif role == "xvfb":
            if self.x_pipe is None:  # it had served: the display is gone for everyone
                self.fail(f"Xvfb exited with status {code}")
        elif role in ("desktop", "sound"):
            if role == "sound" and self.sound_state == "starting":
                self.sound_state = "failed"
                log("sound-failed", reason=f"pulseaudio exited with status {code} before it served")
            if role == "desktop":  # what the old session left, before a new one starts
                self.signal_desktop_leftovers(signal.SIGTERM)
            due = self.started_at[role] + RESTART_INTERVAL_S
            self.restart_due[role] = max(time.monotonic(), due)

    def signal_desktop_leftovers(self, sig: int) -> None:
        """Every process of the session outside the process groups of Xvfb, the sound server and
        Selkies: what a dead desktop session left (its window manager, panel, applications), in its
        group or out of it, which would otherwise hold the display against the next session."""
        keep = set(self.running.values())
        for pid in self.ours():
            try:
                if os.getpgid(pid) not in keep:
                    os.kill(pid, sig)
            except OSError:
                continue

    def restart(self, role: str) -> None:
        del self.restart_due[role]
        log("restart", what=role)  # then desktop-spawned / sound-spawned with the new pid
        if role == "desktop":
            self.signal_desktop_leftovers(signal.SIGKILL)
            self.reap()
            self.start_desktop()
        else:
            self.start_sound()

    def check_sound(self) -> None:
        if self.sound_state == "starting":
            if answers(self.sound_socket):
                self.sound_state = "up"
                log("sound-up", pid=self.running.get("sound", ""), server=f"unix:{self.sound_socket}")
            elif time.monotonic() - self.started_at["sound"] > SOUND_WAIT_S:
                self.sound_state = "failed"
                log("sound-failed", reason=f"PulseAudio did not serve within {SOUND_WAIT_S:.0f} s")
                self.signal_group(self.running["sound"], signal.SIGKILL)

    def timeout(self) -> float:
        """How long the loop may sleep: short while something is being waited for."""
        now = time.monotonic()
        waits = [t - now for t in self.restart_due.values()]
        if self.sound_state == "starting":
            waits.append(0.02)
        if self.x_pipe is not None:
            waits.append(self.started_at["xvfb"] + X_WAIT_S - now)
        return max(0.0, min(waits, default=5.0))

    def run(self) -> int:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1)
        log("start", pid=self.pid, runtime=self.runtime_dir, python=sys.version.split()[0])
        self.start_x()
        self.start_sound()
        while self.exit_status is None and not self.stop_signal:
            ready = select.select([self.wake_r] + ([self.x_pipe] if self.x_pipe is not None else []),
                                  [], [], self.timeout())[0]
            _drain(self.wake_r)
            self.reap()
            if self.stop_signal or self.exit_status is not None:
                break
            if self.x_pipe is not None and self.x_pipe in ready:
                self.on_x_ready()
            elif self.x_pipe is not None and time.monotonic() - self.started_at["xvfb"] > X_WAIT_S:
                self.fail(f"Xvfb did not serve a display within {X_WAIT_S:.0f} s")
            self.check_sound()
            for role, due in list(self.restart_due.items()):
                if time.monotonic() >= due:
                    self.restart(role)
        return self.stop()

    # --- stopping ---------------------------------------------------------------------------

    def signal_group(self, pid: int, sig: int) -> None:
        try:
            os.killpg(pid, sig)
        except OSError:
            pass

    def ours(self) -> List[int]:
        """Every process of the session still alive: the launcher's children (its own and the
        orphans it adopted as subreaper) and every process carrying its marker."""
        marker = f"{MARKER}={self.pid}".encode()
        me = str(self.pid).encode()
        found = []
        for entry in filter(str.isdigit, _listdir("/proc")):
            pid = int(entry)
            if pid == self.pid:
                continue
            try:
                with open(f"/proc/{entry}/stat", "rb") as fh:
                    fields = fh.read().rsplit(b")", 1)[1].split()
                if fields[0] == b"Z":
                    if fields[1] == me:
                        found.append(pid)  # ours to reap
                    continue
                if fields[1] == me:
                    found.append(pid)
                    continue
                with open(f"/proc/{entry}/environ", "rb") as fh:
                    if marker in fh.read().split(b"\0"):
                        found.append(pid)
            except OSError:
                continue
        return found

    def wait_gone(self, pids: List[int], seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.reap()
            if not any(_alive(p) for p in pids):
                return
            select.select([self.wake_r], [], [], 0.05)
            _drain(self.wake_r)

    def stop(self) -> int:
        if self.stop_signal:
            log("stopping", signal=signal.Signals(self.stop_signal).name.removeprefix("SIG"))
            status = 0
        else:
            log("stopping", reason="failure")
            status = self.exit_status if self.exit_status is not None else 1
        # Selkies first, so its capture closes before its display.
        selkies = self.running.get("selkies")
        if selkies:
            self.signal_group(selkies, signal.SIGTERM)
            self.wait_gone([selkies], SELKIES_STOP_S)
            self.signal_group(selkies, signal.SIGKILL)
        # Then everything else: the process groups, and whatever left them.
        for pid in list(self.running.values()):
            self.signal_group(pid, signal.SIGTERM)
        rest = self.ours()
        for pid in rest:
            _kill(pid, signal.SIGTERM)
        self.wait_gone(rest, REST_STOP_S)
        killed = 0
        for _ in range(3):
            left = [p for p in self.ours() if _alive(p)]
            if not left:
                break
            killed += len(left)
            for pid in left:
                _kill(pid, signal.SIGKILL)
            self.wait_gone(left, 1.0)
        # Until the launcher has no child at all: a process of the tree that died after the last
        # reap is a zombie that reaches the launcher only when its own parent is gone, and the
        # launcher exiting first would leave it to the container's init (seen under load).
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            self.reap()
            if not _has_children() and not any(_alive(p) for p in self.ours()):
                break
            select.select([self.wake_r], [], [], 0.05)
            _drain(self.wake_r)
        left = [p for p in self.ours() if _alive(p)]
        shutil.rmtree(self.runtime_dir, ignore_errors=True)
        log("stopped", status=status, killed=killed, left=len(left), unreaped=int(_has_children()))
        return status


def _listdir(path: str) -> List[str]:
    try:
        return os.listdir(path)
    except OSError:
        return []


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 512):
            pass
    except (BlockingIOError, InterruptedError):
        pass


def _kill(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except OSError:
        pass


def _has_children() -> bool:
    """Whether the launcher has any child left, running or exited and not yet reaped."""
    try:
        os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        return True
    except ChildProcessError:
        return False


def _alive(pid: int) -> bool:
    """Running (a zombie has ended; reaping it is the launcher's business, not a survivor)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False


def main() -> int:
    if truthy(selkies_setting(sys.argv[1:], "wayland")):
        print("vdi-desktop: this image's desktop is X11 (Xvfb and XFCE); unset SELKIES_WAYLAND", file=sys.stderr)
        return 78
    return Launcher(sys.argv[1:]).run()


if __name__ == "__main__":
    sys.exit(main())
