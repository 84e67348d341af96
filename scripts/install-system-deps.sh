#!/usr/bin/env bash
# Installs the real database servers the tests and the demo run (Debian packages), without letting
# their package scripts start daemons on default ports. Idempotent; needs root (or sudo).
set -euo pipefail
PKGS=(redis-server postgresql mariadb-server mariadb-client memcached nmap iproute2 time clickhouse-server clickhouse-client influxdb influxdb-client etcd-server etcd-client zookeeper dnsmasq-base libmaxmind-db-writer-perl openssl)
missing=()
for p in "${PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [[ ${#missing[@]} -eq 0 ]]; then echo "[deps] all system packages present"; exit 0; fi
SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO="sudo"
# A policy-rc.d that says "no" keeps postinst scripts from starting services.
created_policy=0
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  created_policy=1
fi
echo "[deps] installing: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
[[ $created_policy -eq 1 ]] && $SUDO rm -f /usr/sbin/policy-rc.d
echo "[deps] done"
