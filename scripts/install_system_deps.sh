#!/usr/bin/env bash
# Installs the Debian packages the project relies on, only those missing.
#   mosquitto          - the MQTT broker the integration tests start on loopback
#   libsystemd-dev     - headers that systemd-python builds against
#   pkg-config         - lets systemd-python's build find libsystemd
#   systemd            - systemd-analyze, used to verify the unit file
#   cyclonedds-dev     - Cyclone DDS 0.10.2 (the G1's version): the C library and headers that
#                        the cyclonedds Python binding builds against (the robot extra)
#   gcc, python3-dev   - to build that binding from its sdist (no cp311 wheel exists)
set -euo pipefail
packages=(mosquitto libsystemd-dev pkg-config systemd cyclonedds-dev gcc python3-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null; then
  echo "install_system_deps: apt-get not found; please install: ${missing[*]}" >&2
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "install_system_deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
