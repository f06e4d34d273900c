#!/bin/bash
# Runs inside the image's root filesystem as root, after the packages of packages.txt are installed
# (build.sh: in mmdebstrap's chroot; Dockerfile: a RUN step). Makes the desktop user, Selkies' venv and
# what a read-only root filesystem needs. Network access is needed for pip (PyPI).
set -euo pipefail
SELKIES_VERSION="${SELKIES_VERSION:?SELKIES_VERSION is required}"

# The desktop user: uid/gid 1000, home /home/ubuntu (the platform's default homeMountPath; the pod
# mounts the user's volume there, so the skeleton is copied in by the entrypoint on first start).
groupadd --gid 1000 ubuntu
useradd --uid 1000 --gid 1000 --create-home --home-dir /home/ubuntu --shell /bin/bash ubuntu

# Selkies from PyPI, pinned, in a venv of Debian's Python (no system pip packages touched).
# With PIP_CACHE_DIR set (build.sh), the wheels are downloaded into it once and installed from
# there, so a rebuild fetches nothing (pip's HTTP cache keeps nothing from a proxy without caching
# headers).
python3 -m venv /opt/selkies
pip=(/opt/selkies/bin/pip --no-input --disable-pip-version-check)
if [ -n "${PIP_CACHE_DIR:-}" ]; then
  wheels="$PIP_CACHE_DIR/wheels"
  mkdir -p "$wheels"
  "${pip[@]}" download --progress-bar off --dest "$wheels" "selkies==${SELKIES_VERSION}"
  "${pip[@]}" install --progress-bar off --no-index --find-links "$wheels" "selkies==${SELKIES_VERSION}"
else
  "${pip[@]}" install --progress-bar off "selkies==${SELKIES_VERSION}"
fi
/opt/selkies/bin/selkies --help >/dev/null
# Byte-code that holds on a read-only root: pip's .pyc files are checked against their source's
# mtime, which the image's layers do not keep as pip saw it, so most were stale and every start
# compiled ~360 modules again in memory (the root cannot take new ones) — 1.5 s of CPU for Selkies
# alone. Hash-checked byte-code stays valid whatever the mtimes, and still follows a source a
# derived image patches.
/opt/selkies/bin/python3 -m compileall -q -f -j 0 --invalidation-mode checked-hash /opt/selkies/lib/python3*/site-packages >/dev/null
# Selkies serves its web client from a copy it makes in TMPDIR at every start (~11 MB) unless
# SELKIES_WEB_ROOT names a directory holding it: the entrypoint points it at the package's own,
# through this fixed path that does not name the Python version (a relative link: it also
# resolves in the unpacked root the image tests read).
ln -sfn "$(cd /opt/selkies && echo lib/python3*/site-packages/selkies/selkies_web)" /opt/selkies/web
test -f /opt/selkies/web/index.html

# A read-only root: nothing may need writing outside $HOME, /tmp, /dev/shm and XDG_RUNTIME_DIR.
# dbus wants a machine id; there is no systemd to write one at boot.
dbus-uuidgen --ensure=/etc/machine-id
mkdir -p /var/lib/dbus && ln -sf /etc/machine-id /var/lib/dbus/machine-id
fc-cache -f >/dev/null

# XFCE defaults for a streamed desktop: no compositor (every composited frame costs CPU and
# bandwidth), no screen blanking, a terminal open at login so there is something to type into.
mkdir -p /etc/xdg/xfce4/xfconf/xfce-perchannel-xml /etc/xdg/autostart
cat > /etc/xdg/xfce4/xfconf/xfce-perchannel-xml/xfwm4.xml <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<channel name="xfwm4" version="1.0">
  <property name="general" type="empty">
    <property name="use_compositing" type="bool" value="false"/>
    <property name="workspace_count" type="int" value="1"/>
  </property>
</channel>
XML
# The session xfce4-session starts when the user has none saved (and none is ever saved: the
# session is the image's): the window manager, settings daemon, panel and desktop, and the terminal
# as a client in xfdesktop's start group. Not an autostart entry: xfce4-session runs those only
# after every session client has registered over XSMP, so an autostarted terminal mapped ~8 s after
# login; as a session client it maps 1-2 s after. (Debian's default also starts Thunar's daemon,
# which the image does not install.)
cat > /etc/xdg/xfce4/xfconf/xfce-perchannel-xml/xfce4-session.xml <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<channel name="xfce4-session" version="1.0">
  <property name="general" type="empty">
    <property name="FailsafeSessionName" type="string" value="Failsafe"/>
    <property name="LockCommand" type="string" value=""/>
    <property name="SaveOnExit" type="bool" value="false"/>
    <property name="AutoSave" type="bool" value="false"/>
  </property>
  <property name="sessions" type="empty">
    <property name="Failsafe" type="empty">
      <property name="IsFailsafe" type="bool" value="true"/>
      <property name="Count" type="int" value="5"/>
      <property name="Client0_Command" type="array">
        <value type="string" value="xfwm4"/>
      </property>
      <property name="Client0_Priority" type="int" value="15"/>
      <property name="Client0_PerScreen" type="bool" value="false"/>
      <property name="Client1_Command" type="array">
        <value type="string" value="xfsettingsd"/>
      </property>
      <property name="Client1_Priority" type="int" value="20"/>
      <property name="Client1_PerScreen" type="bool" value="false"/>
      <property name="Client2_Command" type="array">
        <value type="string" value="xfce4-panel"/>
      </property>
      <property name="Client2_Priority" type="int" value="25"/>
      <property name="Client2_PerScreen" type="bool" value="false"/>
      <property name="Client3_Command" type="array">
        <value type="string" value="xfdesktop"/>
      </property>
      <property name="Client3_Priority" type="int" value="35"/>
      <property name="Client3_PerScreen" type="bool" value="false"/>
      <property name="Client4_Command" type="array">
        <value type="string" value="xfce4-terminal"/>
      </property>
      <property name="Client4_Priority" type="int" value="35"/>
      <property name="Client4_PerScreen" type="bool" value="false"/>
    </property>
  </property>
</channel>
XML
# Autostart entries that need services a container does not have.
rm -f /etc/xdg/autostart/{xscreensaver,light-locker,xfce4-power-manager,pulseaudio,xiccd,at-spi-dbus-bus}.desktop

# Smaller image: documentation, manuals, apt's lists and Python's byte-code caches of pip itself.
rm -rf /usr/share/doc/* /usr/share/man/* /usr/share/info/* /var/lib/apt/lists/* /var/cache/apt/*.bin /root/.cache \
  /var/log/apt/* /var/log/dpkg.log /var/log/alternatives.log
# Mount points a runtime other than runc may expect to exist on the read-only root.
mkdir -p /dev /run/user/1000
