#!/usr/bin/env bash
# make bench-bridge: the live bridge's load test (100 IMAP sessions held,
# 20,000 messages submitted by Postfix's smtp-source, none lost) next to
# smtp-sink driven by the same smtp-source. See bench_bridge.py.
#   tests/bench/bench_bridge.sh BUILD/mailsim [--sessions N] [--messages N]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
exec timeout 1800 "$py" "$here/bench_bridge.py" "$@"
