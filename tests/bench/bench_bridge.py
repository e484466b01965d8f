#!/usr/bin/env python3
"""The live bridge's load test and benchmark (make bench-bridge, run by make
bench): `mailsim serve` on loopback holds IMAP sessions open while Postfix's
smtp-source submits messages on port 25; every message must reach its
mailbox (none lost) and every session must count them. Then the same
smtp-source run against Postfix's smtp-sink, which accepts and discards,
for scale: the simulation does far more per message (a Received: field, a
trace line per command and reply, a store, IDLE notifications).

    bench_bridge.py MAILSIM [--sessions 100] [--messages 20000] [--runs 3]

Each run starts a fresh server (a mailbox holds at most 4,096 messages),
then measures smtp-sink right after it, so the two numbers of a run see
the same machine. Bounded: every wait stops after LIMIT seconds, and the
server is always stopped. Prints a readable line per run and, for
tests/bench/run.sh, the medians over the runs:
BENCH<TAB>bridge messages accepted<TAB>RATE<TAB>msg/s<TAB>SINK (smtp-sink)<TAB>RATIO.
"""
import argparse
import imaplib
import os
import random
import signal
import statistics
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
LESSON = os.path.join(HERE, "..", "interop", "bridge.json")
LIMIT = 600  # seconds: any one phase
RCPTS = 5    # recipients: 20,000 messages stay under 4,096 per folder (SIM_STORE_MSGS_MAX)
SOURCE = "/usr/sbin/smtp-source"
SINK = "/usr/sbin/smtp-sink"


def die(msg):
    print("bench_bridge: " + msg)
    sys.exit(1)


def start_serve(mailsim):
    for _ in range(6):
        offset = random.randrange(20000, 50000, 100)
        args = [mailsim, "serve", LESSON, "--headless", "--port-offset", str(offset)]
        for i in range(RCPTS):
            args += ["--user", "r%d@example.org:load%d" % (i, i)]
        p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        eps = {}
        deadline = time.time() + 30
        while time.time() < deadline:
            line = p.stdout.readline().decode()
            if not line:
                break
            w = line.split()
            if w and w[0] == "endpoint":
                a, port = w[3].rsplit(":", 1)
                eps[(w[1], w[2])] = (a, int(port))
            if w == ["ready"]:
                return p, eps
        p.kill()
        p.wait()
    die("mailsim serve did not start")


def stop(p):
    """SIGTERM, as Ctrl-C would; serve must then exit 0 (a sanitizer
    report or a crash would not)."""
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=LIMIT)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            die("mailsim serve did not stop on SIGTERM")
    if p.returncode != 0:
        die("mailsim serve exited with status %d" % p.returncode)


def run_source(target, messages, sessions, per_rcpt):
    """smtp-source, one run per recipient, all at once; returns seconds."""
    t0 = time.time()
    procs = []
    for i in range(RCPTS):
        procs.append(subprocess.Popen(
            [SOURCE, "-d", "-s", str(max(1, sessions // RCPTS)), "-m", str(per_rcpt),
             "-l", "512", "-f", "load@example.net", "-t", "r%d@example.org" % i,
             "-M", "load.example.net", target],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
    for p in procs:
        try:
            _, err = p.communicate(timeout=LIMIT)
        except subprocess.TimeoutExpired:
            p.kill()
            die("smtp-source did not finish within %d s" % LIMIT)
        if p.returncode != 0:
            die("smtp-source failed: " + err.decode(errors="replace"))
    return time.time() - t0


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def one_run(a, total, per_rcpt):
    """One measurement: mailsim serve, then smtp-sink. Returns (seconds,
    messages/s, smtp-sink seconds, smtp-sink messages/s)."""
    serve, eps = start_serve(a.mailsim)
    try:
        iaddr, iport = eps[("mail.example.org", "imap")]
        saddr, sport = eps[("mail.example.org", "smtp")]
        held = []
        for i in range(a.sessions):
            m = imaplib.IMAP4(iaddr, iport, timeout=60)
            k = i % RCPTS
            m.login("r%d@example.org" % k, "load%d" % k)
            m.select("INBOX")
            held.append((k, m))
        secs = run_source("%s:%d" % (saddr, sport), total, a.smtp_sessions, per_rcpt)
        rate = total / secs
        # none lost: every session sees its mailbox hold all of its messages
        deadline = time.time() + LIMIT
        while True:
            counts = []
            for k, m in held:
                typ, data = m.noop()
                typ, data = m.status("INBOX", "(MESSAGES)")
                counts.append(int(data[0].split(b"MESSAGES ")[1].rstrip(b")")))
            if all(c == per_rcpt for c in counts) or time.time() > deadline:
                break
            time.sleep(0.5)
        for _, m in held:
            m.logout()
    finally:
        stop(serve)
    if not all(c == per_rcpt for c in counts):
        die("messages lost: sessions count %r, want %d each" % (sorted(set(counts)), per_rcpt))

    port = free_port()
    # as root smtp-sink wants an unprivileged user to become
    sink_args = [SINK] + (["-u", "nobody"] if os.getuid() == 0 else [])
    sink = subprocess.Popen(sink_args + ["127.0.0.1:%d" % port, "256"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 10
        while True:  # until it listens
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if sink.poll() is not None or time.time() > deadline:
                    die("smtp-sink did not start: " + sink.stderr.read().decode(errors="replace"))
                time.sleep(0.05)
        sink_secs = run_source("127.0.0.1:%d" % port, total, a.smtp_sessions, per_rcpt)
    finally:
        sink.terminate()
        sink.wait()
    sink_rate = total / sink_secs

    return secs, rate, sink_secs, sink_rate


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mailsim")
    ap.add_argument("--sessions", type=int, default=100)
    ap.add_argument("--messages", type=int, default=20000)
    ap.add_argument("--smtp-sessions", type=int, default=20)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    for tool in (SOURCE, SINK):
        if not os.access(tool, os.X_OK):
            die("%s is missing: make deps installs postfix" % tool)
    if a.runs < 1:
        die("--runs must be at least 1")
    per_rcpt = a.messages // RCPTS
    total = per_rcpt * RCPTS

    rates, sink_rates = [], []
    for run in range(a.runs):
        secs, rate, sink_secs, sink_rate = one_run(a, total, per_rcpt)
        rates.append(rate)
        sink_rates.append(sink_rate)
        print("run %d: mailsim serve: %d IMAP sessions held; %d messages from smtp-source "
              "(%d sessions) accepted in %.1f s: %.0f messages/s; every session counted "
              "its %d, none lost" % (run + 1, a.sessions, total, a.smtp_sessions, secs, rate,
                                     per_rcpt))
        print("run %d: smtp-sink:     the same %d messages in %.1f s: %.0f messages/s "
              "(accepts and discards)" % (run + 1, total, sink_secs, sink_rate))
        sys.stdout.flush()
    rate = statistics.median(rates)
    sink_rate = statistics.median(sink_rates)
    print("BENCH\tbridge messages accepted\t%.0f\tmsg/s\t%.0f (smtp-sink)\t%.4f"
          % (rate, sink_rate, rate / sink_rate))
    return 0


if __name__ == "__main__":
    sys.exit(main())
