#!/usr/bin/env bash
# The one test command (README, .ci/run): installs what the tests need when it
# is missing, builds, then runs every jest tier. Extra arguments go to jest.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v haproxy >/dev/null 2>&1 || need+=(haproxy)
# The browser tier drives Debian's Chromium (Playwright cannot download its own here).
[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  echo "installing ${need[*]} (Debian packages) ..."
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
# Compose v1 validates docker-compose.yml offline (test/cluster/deploy-config.cluster.ts);
# without recommends, so no Docker engine comes with it.
if ! command -v docker-compose >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  echo "installing docker-compose (Debian package, Compose v1) ..."
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends docker-compose >/dev/null
fi

[ -d node_modules ] || npm ci --no-audit --no-fund
npm run build --silent
# ESLint (type-aware: needs the generated Prisma client, so after the build) and
# prettier --check, before any test: a lint failure fails the run (set -e).
# `npm run format` fixes the formatting.
npm run lint --silent
# --forceExit: killed replica processes can leave jest waiting on their pipes.
NODE_OPTIONS=--experimental-vm-modules npx jest --ci --forceExit "$@"
