#!/usr/bin/env bash
# Install the OS sandbox the code judge runs untrusted programs in (bubblewrap: network, pid, ipc
# and mount namespaces without a daemon). Idempotent: does nothing when bwrap already works.
# Run as root on Debian/Ubuntu (CI and fresh machines); elsewhere ask your admin for `bubblewrap`.
set -euo pipefail

if command -v bwrap >/dev/null 2>&1; then
  echo "bwrap already installed: $(bwrap --version)"
else
  if [ "$(id -u)" -ne 0 ]; then
    echo "install_sandbox.sh: bubblewrap is missing and this is not root; install the 'bubblewrap' package" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends bubblewrap >/dev/null
  echo "installed $(bwrap --version)"
fi

# Smoke check: a sandbox with its own network namespace must start here (fails loudly when the
# kernel forbids namespaces, e.g. inside an unprivileged container).
if ! bwrap --ro-bind / / --dev /dev --proc /proc --unshare-all --die-with-parent --new-session true; then
  echo "install_sandbox.sh: bwrap is installed but cannot create namespaces on this kernel" >&2
  exit 1
fi
echo "sandbox ok"
