#!/usr/bin/env bash
# Installs the runtime on the G1's development computer (PC2: Jetson Orin NX, aarch64) with the
# same DDS stack the robot's own software uses: Cyclone DDS C 0.10.x built from source, the
# cyclonedds 0.10.2 Python binding built against it, unitree_sdk2py's types (--no-deps).
#
# Why from source: PyPI has no aarch64 wheel of cyclonedds in any version, and Debian/Ubuntu's
# cyclonedds-dev is not 0.10.x on every JetPack. The releases/0.10.x branch is used instead of
# the 0.10.2 tag: the tag does not build with _FORTIFY_SOURCE on newer glibc.
#
# Not run in this project's CI (no Jetson there); see the README's robot section.
#
#   usage: sudo scripts/install_robot.sh            # JetPack 6 (Ubuntu 22.04, Python 3.10)
#          PYTHON=python3.10 sudo -E scripts/install_robot.sh   # JetPack 5.x + deadsnakes 3.10
#
# Environment:
#   PYTHON          interpreter for the venv (>= 3.10; default python3)
#   VENV            where the runtime's venv goes (default /opt/exoactor-edge/venv)
#   CYCLONEDDS_HOME where Cyclone C is installed (default /opt/exoactor-edge/cyclonedds)
#   CYCLONEDDS_REF  branch or commit to build (default releases/0.10.x)
#   CYCLONEDDS_GIT  the Cyclone DDS repository (default: the eclipse-cyclonedds upstream)
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${VENV:-/opt/exoactor-edge/venv}
CYCLONEDDS_HOME=${CYCLONEDDS_HOME:-/opt/exoactor-edge/cyclonedds}
CYCLONEDDS_REF=${CYCLONEDDS_REF:-releases/0.10.x}
CYCLONEDDS_GIT=${CYCLONEDDS_GIT:-https://github.com/eclipse-cyclonedds/cyclonedds.git}

say() { echo "install_robot: $*"; }
die() { echo "install_robot: $*" >&2; exit 1; }

[ "$(uname -m)" = aarch64 ] || say "warning: $(uname -m), not the Jetson's aarch64"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
  || die "$PYTHON is $("$PYTHON" -V 2>&1); the runtime needs Python >= 3.10 (JetPack 6, or \
python3.10 from the deadsnakes PPA on JetPack 5: see the README)"

say "system packages"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends git cmake build-essential pkg-config \
  libsystemd-dev "$(basename "$PYTHON")-venv" "$(basename "$PYTHON")-dev" >/dev/null

if [ ! -e "$CYCLONEDDS_HOME/lib/libddsc.so" ]; then
  say "building Cyclone DDS C ($CYCLONEDDS_REF) into $CYCLONEDDS_HOME"
  src=$(mktemp -d)
  trap 'rm -rf "$src"' EXIT
  git clone -q --depth 1 --branch "$CYCLONEDDS_REF" "$CYCLONEDDS_GIT" "$src/cyclonedds"
  cmake -S "$src/cyclonedds" -B "$src/build" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_INSTALL_PREFIX="$CYCLONEDDS_HOME" -DBUILD_EXAMPLES=OFF -DBUILD_TESTING=OFF \
    -DBUILD_IDLC=ON -DENABLE_SHM=OFF >/dev/null
  cmake --build "$src/build" --parallel "$(nproc)" >/dev/null
  cmake --install "$src/build" >/dev/null
else
  say "Cyclone DDS C already in $CYCLONEDDS_HOME"
fi
version=$(grep -ho 'DDS_VERSION "[0-9.]*"' "$CYCLONEDDS_HOME"/include/dds/features.h \
  "$CYCLONEDDS_HOME"/include/dds/version.h 2>/dev/null | head -1 || true)
say "Cyclone C: ${version:-version header not found}"

say "venv $VENV with the robot extra"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
CYCLONEDDS_HOME="$CYCLONEDDS_HOME" "$VENV/bin/python" -m pip install -q \
  --no-binary cyclonedds -e '.[robot,systemd]'
"$VENV/bin/python" -m pip install -q --no-deps unitree-sdk2py-dimos==1.0.3
# The binding loads libddsc from CYCLONEDDS_HOME at run time as well.
echo "$CYCLONEDDS_HOME/lib" > /etc/ld.so.conf.d/exoactor-cyclonedds.conf
ldconfig

"$VENV/bin/python" - <<'PY'
from importlib import metadata
import cyclonedds, unitree_sdk2py  # noqa: F401
from controller.robot.dds_transport import load_sdk_types
load_sdk_types()
print("install_robot: cyclonedds", metadata.version("cyclonedds"),
      "unitree-sdk2py-dimos", metadata.version("unitree-sdk2py-dimos"), "OK")
PY
say "done: set [robot] backend = \"unitree\" and [robot.unitree] network_interface in /etc/exoactor/edge.toml"
