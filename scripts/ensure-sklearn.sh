#!/usr/bin/env bash
# Makes sure the benchmark's peer exists: scikit-learn from Debian's python3-sklearn, run with
# /usr/bin/python3. Installs it with apt-get when it is missing and we are root; otherwise it
# says what to install. Never fails: without the peer the benchmark still runs and its report
# says the peer was not run, and why.
set -uo pipefail
say() { echo "[sklearn] $*" >&2; }
# python3-hnswlib and python3-pynndescent are optional: bench:neighbors times them as native references when they are there.
if /usr/bin/python3 -c 'import sklearn, hnswlib, pynndescent' >/dev/null 2>&1; then exit 0; fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  say "installing python3-sklearn, python3-hnswlib and python3-pynndescent (the benchmarks' peers)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-sklearn python3-hnswlib python3-pynndescent >&2 \
    || { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-sklearn python3-hnswlib python3-pynndescent >&2; } \
    || DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-sklearn >&2 \
    || say "could not install python3-sklearn; the report will show the peer as not run"
else
  say "a peer is missing: install Debian's python3-sklearn (and python3-hnswlib, the native reference of bench:neighbors) to compare against them"
fi
exit 0
