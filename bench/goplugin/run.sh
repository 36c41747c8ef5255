#!/usr/bin/env bash
# Builds bench/goplugin/main.go against Debian's hashicorp/go-plugin
# (golang-github-hashicorp-go-plugin-dev, 1.0.1 in Debian 12: GOPATH mode,
# no modules, no network) into WORKDIR and runs it. Prints goplugin_* lines.
#
#   bench/goplugin/run.sh WORKDIR
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=${1:?usage: bench/goplugin/run.sh WORKDIR}
command -v go >/dev/null || { echo "go-plugin: no Go (apt-get install golang-go)" >&2; exit 1; }
[ -d /usr/share/gocode/src/github.com/hashicorp/go-plugin ] ||
	{ echo "go-plugin: golang-github-hashicorp-go-plugin-dev is not installed" >&2; exit 1; }
mkdir -p "$work"
printf '==> go-plugin: building the net/rpc comparison\n' >&2
GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$work/cache" GOFLAGS= \
	go build -o "$work/goplugin" "$here/main.go"
printf '==> go-plugin: starts, idle memory, events from 8 callers\n' >&2
SS_BENCH_STARTS=${SS_BENCH_GOPLUGIN_STARTS:-50} "$work/goplugin"
