#!/usr/bin/env bash
# Makes PREFIX a Cyclone DDS "install prefix" out of Debian's cyclonedds-dev, for
# CYCLONEDDS_HOME: the Python binding's build looks only in $CYCLONEDDS_HOME/lib and /include,
# while Debian puts the library in /usr/lib/<multiarch>. Symlinks only; idempotent.
#   usage: scripts/cyclonedds_prefix.sh PREFIX
set -euo pipefail
prefix=${1:?usage: cyclonedds_prefix.sh PREFIX}
multiarch=$(gcc -print-multiarch 2>/dev/null || true)
[ -n "$multiarch" ] || multiarch=$(python3 -c "import sysconfig; print(sysconfig.get_config_var('MULTIARCH') or '')")
libdir=/usr/lib/$multiarch
if [ ! -e "$libdir/libddsc.so" ]; then
  echo "cyclonedds_prefix: $libdir/libddsc.so not found: install cyclonedds-dev (scripts/install_system_deps.sh)" >&2
  exit 1
fi
mkdir -p "$prefix"
ln -sfn "$libdir" "$prefix/lib"
ln -sfn /usr/include "$prefix/include"
ln -sfn /usr/bin "$prefix/bin"
