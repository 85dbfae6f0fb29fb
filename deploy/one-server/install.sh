#!/usr/bin/env bash
# The facelib lessons for a class on one Linux server (Ubuntu 24.04 LTS or Debian 13; systemd, root):
#
#   git clone https://github.com/YOUR-ORG/facelib /opt/facelib && sudo /opt/facelib/deploy/one-server/install.sh
#
# Installs, the way The Littlest JupyterHub does:
#   /opt/facelib                 this checkout (the package is installed from it, editable, like `make`)
#   /opt/facelib-hub/venv        one venv: the lessons' packages (requirements.txt), facelib, and the hub's
#                                pins (requirements-hub.txt: jupyterhub, nativeauthenticator, systemdspawner,
#                                idle culler, nbgitpuller, jupyter-resource-usage); the lab settings
#   /opt/facelib-hub/node        configurable-http-proxy from npm (Node from the distribution)
#   /opt/facelib-assets          the shared, read-only asset store (facelib fetch --all --to)
#   /opt/facelib-hub/state       the hub's database and cookie secret (root only)
#   /srv/nbgrader/exchange       nbgrader's exchange; /etc/jupyter/nbgrader_config.py its shared settings;
#                                the Unix user $ADMIN in group facelib-teachers (deploy/nbgrader/README.md)
#   jupyterhub.service           systemd unit running deploy/one-server/jupyterhub_config.py on 127.0.0.1:8000
# Re-running it updates everything in place. HTTPS in front: README, "For teachers -> a class on a server".
set -euo pipefail

SRC="$(cd "$(dirname "$0")/../.." && pwd)"
HUB=/opt/facelib-hub
ASSETS=/opt/facelib-assets
ADMIN="${FACELIB_HUB_ADMIN:-teacher}"
CHP_VERSION=5.3.0

if [ "$(id -u)" != 0 ]; then echo "install.sh: run it as root (sudo)" >&2; exit 2; fi
if ! pidof systemd >/dev/null 2>&1; then echo "install.sh: needs systemd (the students' servers are systemd units)" >&2; exit 2; fi
case "$SRC" in /root/*|/home/*) echo "install.sh: $SRC is private to one user: clone into /opt/facelib" >&2; exit 2;; esac

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq python3 python3-venv python3-dev git nodejs npm >/dev/null

python3 -m venv "$HUB/venv"
"$HUB/venv/bin/pip" install --quiet --upgrade pip
"$HUB/venv/bin/pip" install --quiet -r "$SRC/requirements.txt" -r "$SRC/deploy/one-server/requirements-hub.txt" -e "$SRC"
"$HUB/venv/bin/python" "$SRC/tools/labsetup.py"
npm install --silent --no-audit --no-fund --prefix "$HUB/node" "configurable-http-proxy@$CHP_VERSION"

"$HUB/venv/bin/facelib" fetch --all --to "$ASSETS"   # read in place by every student, never copied

install -d -m 700 "$HUB/state"
# nbgrader: the teacher collects as a Unix user of the teachers' group; students write into the exchange
groupadd -f facelib-teachers
id -u "$ADMIN" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash "$ADMIN"
usermod -aG facelib-teachers "$ADMIN"
install -d -m 1777 /srv/nbgrader/exchange
install -d -m 755 /etc/jupyter
install -m 644 "$SRC/deploy/nbgrader/nbgrader_config.py" /etc/jupyter/nbgrader_config.py
install -m 644 "$SRC/deploy/one-server/jupyterhub_config.py" "$HUB/jupyterhub_config.py"
cat > /etc/systemd/system/jupyterhub.service <<EOF
[Unit]
Description=JupyterHub: the facelib lessons for a class
After=network.target

[Service]
User=root
WorkingDirectory=$HUB/state
Environment=PATH=$HUB/venv/bin:$HUB/node/node_modules/.bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
Environment=FACELIB_HUB_PREFIX=$HUB/venv
Environment=FACELIB_HUB_ASSETS=$ASSETS
Environment=FACELIB_HUB_ADMIN=$ADMIN
Environment=FACELIB_HUB_PROXY=$HUB/node/node_modules/.bin/configurable-http-proxy
# Limits per student (jupyterhub_config.py explains where they come from); change them here:
# Environment=FACELIB_HUB_MEM_LIMIT=2G
# Environment=FACELIB_HUB_CPU_LIMIT=2
ExecStart=$HUB/venv/bin/jupyterhub -f $HUB/jupyterhub_config.py
Restart=always

[Install]
WantedBy=multi-user.target
EOF
systemctl daemon-reload
systemctl enable --now jupyterhub
systemctl restart jupyterhub
echo "install.sh: JupyterHub on http://127.0.0.1:8000 (put HTTPS in front: README). Sign up as '$ADMIN' first,"
echo "            then authorise each student at /hub/authorize."
