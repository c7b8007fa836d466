#!/usr/bin/env bash
# Installs every Debian 12 package that scaleout's build, tests, benchmarks and
# demo need. Non-interactive and idempotent: when everything is already
# installed it only says so. Run as root (or with sudo).
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git clang-format clang-tidy
  # libraries
  libboost-dev libboost-program-options-dev libboost-filesystem-dev
  libssl-dev openssl libzmq3-dev cppzmq-dev libmsgpack-cxx-dev libspdlog-dev nlohmann-json3-dev
  libsqlite3-dev sqlite3 unixodbc-dev unixodbc
  # tests and benchmarks
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  odbc-postgresql libsqliteodbc postgresql-15 postgresql-client-15
  curl procps python3 zip unzip zlib1g-dev
  systemd  # systemd-analyze checks the example units
  nodejs node-jsdom  # the web dashboard's tests: node --test, and the page in a DOM
  chromium python3-websocket  # ... and in a real headless browser
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages already installed"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "setup: these packages are missing: ${missing[*]}" >&2
  echo "setup: run this script as root (sudo bash $0) to install them" >&2
  exit 1
fi

echo "setup: installing ${#missing[@]} packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
