#!/usr/bin/env python3
"""Interop tests of `mailsim serve` with real clients nobody here wrote.

    interop.py CASE --mailsim PATH [--lesson FILE]

Each case starts `mailsim serve` on 127.0.0.x with a random free port
offset, waits for `ready`, drives it with Python's smtplib, imaplib and
poplib, curl or dig (all from Debian), compares bytes, and always stops the
server. It prints "ok CASE: ..." lines and exits 0, or prints what differed
and exits 1. Every wait is bounded (WAIT seconds); the whole case is bounded
by the cmocka runner (tests/test_interop.c).
"""
import argparse
import email.utils
import imaplib
import os
import poplib
import random
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
LESSON = os.path.join(HERE, "bridge.json")
WAIT = 15  # seconds: the longest any one step may take

SENDER = ("manish@example.com", "correct horse")
FRIEND = ("friend@example.org", "battery staple")


class Fail(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Fail(what)


def insecure():
    """The server's certificate is made up at start: a test trusts it as
    a student clicking through the warning would."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class Serve:
    """One `mailsim serve` process and its documented interface."""

    def __init__(self, mailsim, lesson=LESSON, extra=()):
        self.endpoints = {}
        self.accounts = {}
        last = ""
        for _ in range(6):
            offset = random.randrange(20000, 50000, 100)
            args = [mailsim, "serve", lesson, "--headless", "--port-offset", str(offset)]
            args += list(extra)
            self.errf = tempfile.TemporaryFile()
            self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.errf)
            if self._read_ready():
                self.offset = offset
                return
            self.proc.wait(timeout=WAIT)
            self.errf.seek(0)
            last = self.errf.read().decode(errors="replace")
            if "Address already in use" not in last:
                break
        raise Fail("mailsim serve did not start: " + last.strip())

    def _read_ready(self):
        deadline = time.time() + WAIT
        while time.time() < deadline:
            line = self.proc.stdout.readline().decode()
            if not line:
                return False
            words = line.split()
            if words and words[0] == "endpoint":
                addr, port = words[3].rsplit(":", 1)
                self.endpoints[(words[1], words[2])] = (addr, int(port))
            elif words and words[0] == "account":
                self.accounts[words[1]] = line.rstrip("\n").split(" ", 2)[2]
            elif words == ["ready"]:
                # stdout is not read again: nothing more is printed without
                # --transcript, so the pipe never fills.
                return True
        return False

    def at(self, host, service):
        return self.endpoints[(host, service)]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=WAIT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise Fail("mailsim serve did not stop on SIGTERM")
        self.errf.seek(0)
        return self.proc.returncode, self.errf.read().decode(errors="replace")


def make_message(subject, body_lines, sender=SENDER[0], to=FRIEND[0]):
    lines = [
        "From: Manish <%s>" % sender,
        "To: <%s>" % to,
        "Subject: %s" % subject,
        "Date: %s" % email.utils.formatdate(),
        "Message-ID: <%s@interop.example.com>" % subject.replace(" ", "."),
        "",
    ] + body_lines
    return ("\r\n".join(lines) + "\r\n").encode()


def unique(tag):
    return "%s %09d" % (tag, random.randrange(10**9))  # fixed width: exact octet counts


def body_with_edges():
    # A leading dot (dot-stuffing both ways, RFC 5321 4.5.2) and a long line.
    return ["Hello from a real client.", ".a line that starts with a dot", "..two dots",
            "x" * 900, "", "Bye."]


def expect_delivered(fetched, sent, what):
    """The recipient's copy is the sent bytes after the header fields the
    MTAs prepend (Return-Path at delivery, RFC 5321 4.4; Received per hop)."""
    check(fetched.endswith(sent), "%s: the fetched message does not end with the sent bytes "
          "(%d fetched, %d sent)\n--- fetched ---\n%r" % (what, len(fetched), len(sent), fetched[-400:]))
    head = fetched[: len(fetched) - len(sent)]
    for line in head.split(b"\r\n")[:-1]:
        check(line.startswith((b"Return-Path:", b"Received:", b" ", b"\t")),
              "%s: unexpected prepended line %r" % (what, line))
    check(head.startswith(b"Return-Path: <%s>\r\n" % SENDER[0].encode()),
          "%s: no Return-Path first: %r" % (what, head[:80]))
    return len(head)


def imap_fetch(srv, subject, service="imaps", user=FRIEND, wait=WAIT):
    """Polls the friend's INBOX over IMAP until subject arrives; returns the
    whole message (BODY.PEEK[]) and its UID."""
    addr, port = srv.at("mail.example.org", service)
    deadline = time.time() + wait
    while True:
        if service == "imaps":
            m = imaplib.IMAP4_SSL(addr, port, ssl_context=insecure(), timeout=WAIT)
        else:
            m = imaplib.IMAP4(addr, port, timeout=WAIT)
            m.starttls(ssl_context=insecure())
        try:
            m.login(*user)
            typ, _ = m.select("INBOX")
            check(typ == "OK", "SELECT INBOX failed")
            typ, data = m.uid("SEARCH", None, "SUBJECT", '"%s"' % subject)
            check(typ == "OK", "SEARCH failed")
            uids = data[0].split()
            if uids:
                typ, data = m.uid("FETCH", uids[-1], "(BODY.PEEK[])")
                check(typ == "OK" and data and isinstance(data[0], tuple), "FETCH failed: %r" % (data,))
                return data[0][1], uids[-1]
        finally:
            try:
                m.logout()
            except Exception:
                pass
        if time.time() > deadline:
            raise Fail("'%s' never arrived in %s's INBOX" % (subject, user[0]))
        time.sleep(0.2)


def submit(srv, msg, port_service="submission", rcpts=(FRIEND[0],)):
    addr, port = srv.at("mail.example.com", port_service)
    if port_service == "submissions":
        s = smtplib.SMTP_SSL(addr, port, context=insecure(), timeout=WAIT)
    else:
        s = smtplib.SMTP(addr, port, timeout=WAIT)
        s.ehlo("interop.example.com")
        s.starttls(context=insecure())
    s.ehlo("interop.example.com")
    s.login(*SENDER)
    refused = s.sendmail(SENDER[0], list(rcpts), msg)
    s.quit()
    check(not refused, "recipients refused: %r" % refused)


def run_curl(args, data=None):
    p = subprocess.run(["curl", "--silent", "--show-error", "--max-time", str(WAIT)] + args,
                       input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=WAIT + 5)
    check(p.returncode == 0, "curl %s failed (%d): %s" % (" ".join(args), p.returncode,
                                                          p.stderr.decode(errors="replace")))
    return p.stdout


# ---- the cases -------------------------------------------------------------------


def case_smtplib_imaplib(srv):
    """smtplib: STARTTLS and AUTH on submission; imaplib over IMAPS and
    over IMAP with STARTTLS; bytes compared."""
    subject = unique("smtplib to imaplib")
    msg = make_message(subject, body_with_edges())
    submit(srv, msg)
    fetched, uid = imap_fetch(srv, subject, "imaps")
    n = expect_delivered(fetched, msg, "imaps")
    again, _ = imap_fetch(srv, subject, "imap")
    check(again == fetched, "IMAP with STARTTLS gave other bytes than IMAPS")
    print("ok smtplib_imaplib: %d octets sent, the same %d fetched by IMAPS and by IMAP+STARTTLS "
          "after %d octets of Return-Path/Received" % (len(msg), len(msg), n))


def case_smtps_poplib(srv):
    """smtplib over implicit TLS (465); poplib over POP3S and POP3+STLS:
    RETR gives the bytes, DELE and QUIT remove the message."""
    subject = unique("smtps to poplib")
    msg = make_message(subject, body_with_edges())
    submit(srv, msg, "submissions")
    imap_fetch(srv, subject, "imaps")  # wait for the relay
    addr, port = srv.at("mail.example.org", "pop3")
    p = poplib.POP3(addr, port, timeout=WAIT)
    p.stls(context=insecure())
    p.user(FRIEND[0])
    p.pass_(FRIEND[1])
    count, _ = p.stat()
    check(count >= 1, "POP3 STAT says %d messages" % count)
    p.quit()  # nothing deleted: the next session sees the same
    addr, port = srv.at("mail.example.org", "pop3s")
    p = poplib.POP3_SSL(addr, port, context=insecure(), timeout=WAIT)
    p.user(FRIEND[0])
    p.pass_(FRIEND[1])
    found = None
    for i in range(1, p.stat()[0] + 1):
        resp, lines, octets = p.retr(i)
        whole = b"\r\n".join(lines) + b"\r\n"
        if subject.encode() in whole:
            found = i
            check(octets == len(whole), "RETR octets %d, reassembled %d" % (octets, len(whole)))
            expect_delivered(whole, msg, "pop3s")
            break
    check(found, "the message is not in the POP3 maildrop")
    p.dele(found)
    p.quit()
    addr, port = srv.at("mail.example.org", "imaps")
    m = imaplib.IMAP4_SSL(addr, port, ssl_context=insecure(), timeout=WAIT)
    m.login(*FRIEND)
    m.select("INBOX")
    typ, data = m.uid("SEARCH", None, "SUBJECT", '"%s"' % subject)
    m.logout()
    check(data[0].split() == [], "the message is still there after POP3 DELE and QUIT")
    print("ok smtps_poplib: RETR gave the sent bytes; DELE+QUIT removed it (IMAP SEARCH finds none)")


def case_curl_smtp_imap_pop3(srv):
    """curl's smtp:// with STARTTLS and smtps://; imap://, imaps://,
    pop3://, pop3s:// fetch the same bytes."""
    results = []
    for scheme, service in (("smtp", "submission"), ("smtps", "submissions")):
        subject = unique("curl " + scheme)
        msg = make_message(subject, body_with_edges())
        addr, port = srv.at("mail.example.com", service)
        args = ["--insecure", "--url", "%s://%s:%d" % (scheme, addr, port),
                "--mail-from", SENDER[0], "--mail-rcpt", FRIEND[0],
                "--user", "%s:%s" % SENDER, "--upload-file", "-"]
        if scheme == "smtp":
            args.insert(0, "--ssl-reqd")
        run_curl(args, data=msg)
        _, uid = imap_fetch(srv, subject, "imaps")
        results.append((subject, msg, uid.decode()))
    user = "%s:%s" % FRIEND
    for subject, msg, uid in results:
        for scheme, service in (("imap", "imap"), ("imaps", "imaps")):
            addr, port = srv.at("mail.example.org", service)
            args = ["--insecure", "--user", user,
                    "%s://%s:%d/INBOX;UID=%s" % (scheme, addr, port, uid)]
            if scheme == "imap":
                args.insert(0, "--ssl-reqd")
            got = run_curl(args)
            expect_delivered(got, msg, "curl " + scheme)
    # POP3: the newest message is the last one sent
    subject, msg, _ = results[-1]
    for scheme, service in (("pop3", "pop3"), ("pop3s", "pop3s")):
        addr, port = srv.at("mail.example.org", service)
        listing = run_curl((["--ssl-reqd"] if scheme == "pop3" else []) +
                           ["--insecure", "--user", user, "%s://%s:%d/" % (scheme, addr, port)])
        n = len(listing.splitlines())
        check(n >= 2, "curl %s LIST shows %d messages" % (scheme, n))
        got = run_curl((["--ssl-reqd"] if scheme == "pop3" else []) +
                       ["--insecure", "--user", user, "%s://%s:%d/%d" % (scheme, addr, port, n)])
        expect_delivered(got, msg, "curl " + scheme)
    print("ok curl_smtp_imap_pop3: smtp+STARTTLS and smtps sent; imap, imaps, pop3, pop3s "
          "fetched the same bytes")


def dig(srv, host, *args):
    addr, port = srv.at(host, "dns")
    p = subprocess.run(["dig", "@" + addr, "-p", str(port), "+time=3", "+tries=2"] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=WAIT)
    check(p.returncode == 0, "dig %s failed: %s" % (" ".join(args), p.stderr.decode()))
    return p.stdout.decode()


def case_dig(srv):
    """dig asks the simulated resolver (UDP and TCP) and an authoritative
    server: MX and A as the lesson's zones say."""
    short = dig(srv, "resolver", "+short", "example.org", "MX")
    check(short.split("\n")[0] == "10 mail.example.org.", "MX via the resolver: %r" % short)
    short = dig(srv, "resolver", "+short", "mail.example.org", "A")
    check(short.strip() == "203.0.113.25", "A via the resolver: %r" % short)
    short = dig(srv, "resolver", "+short", "+tcp", "example.com", "MX")
    check(short.strip() == "10 mail.example.com.", "MX over TCP: %r" % short)
    full = dig(srv, "ns1.example.org", "+norec", "example.org", "MX")
    check("status: NOERROR" in full and " aa" in full.split("flags:")[1].split(";")[0],
          "the authoritative answer is not authoritative:\n" + full)
    check("example.org.\t\t3600\tIN\tMX\t10 mail.example.org." in full,
          "no MX record line in:\n" + full)
    full = dig(srv, "resolver", "nosuch.example.org", "A")
    check("status: NXDOMAIN" in full, "a missing name is not NXDOMAIN:\n" + full)
    print("ok dig: MX 10 mail.example.org. and A 203.0.113.25 (UDP), MX over TCP, AA from "
          "ns1.example.org, NXDOMAIN for a missing name")


def case_limits(srv):
    """The protocols' limits hold on real sockets: an over-long SMTP line
    gets 500, an IMAP literal past the limit gets NO/BAD before '+', and a
    client that drops mid-DATA loses only its own message."""
    addr, port = srv.at("mail.example.org", "smtp")
    s = socket.create_connection((addr, port), timeout=WAIT)
    f = s.makefile("rb")
    check(f.readline().startswith(b"220 "), "no greeting")
    s.sendall(b"EHLO " + b"x" * 2000 + b"\r\n")
    reply = f.readline()
    check(reply.startswith(b"500"), "an over-long line got %r" % reply)
    s.sendall(b"HELO interop.example.com\r\nMAIL FROM:<a@example.net>\r\nRCPT TO:<friend@example.org>\r\nDATA\r\n")
    for want in (b"250", b"250", b"250", b"354"):
        line = f.readline()
        check(line.startswith(want), "expected %s, got %r" % (want.decode(), line))
    s.sendall(b"Subject: half a message\r\n\r\nthis never ends")
    s.close()  # mid-DATA
    subject = unique("after a dropped DATA")
    msg = make_message(subject, ["the next client's message arrives whole"])
    submit(srv, msg)
    fetched, _ = imap_fetch(srv, subject, "imaps")
    expect_delivered(fetched, msg, "after the drop")
    addr, port = srv.at("mail.example.org", "imaps")
    m = imaplib.IMAP4_SSL(addr, port, ssl_context=insecure(), timeout=WAIT)
    m.login(*FRIEND)
    m.select("INBOX")
    typ, data = m.uid("SEARCH", None, "SUBJECT", '"half a message"')
    check(data[0].split() == [], "the half message was stored")
    m.logout()
    print("ok limits: 500 for a 2005-octet line; a client cut mid-DATA stored nothing; the next "
          "message arrived whole")


def maildir_files(root, account):
    out = {}
    for sub in ("new", "cur"):
        d = os.path.join(root, account, sub)
        for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:
            with open(os.path.join(d, name), "rb") as fh:
                out[sub + "/" + name] = fh.read()
    return out


def case_maildir(mailsim, lesson):
    """--maildir: a message delivered, then \\Seen set by IMAP, is on disk as
    new/ then cur/NAME:2,S; after a restart the same bytes are served again;
    Dovecot reads the same maildir."""
    root = tempfile.mkdtemp(prefix="mailsim-maildir-")
    try:
        srv = Serve(mailsim, lesson, ["--maildir", root])
        try:
            subject = unique("kept in a maildir")
            msg = make_message(subject, body_with_edges())
            submit(srv, msg)
            fetched, uid = imap_fetch(srv, subject, "imaps")
            files = maildir_files(root, FRIEND[0])
            check(len(files) == 1 and list(files)[0].startswith("new/"),
                  "expected one file in new/, got %r" % list(files))
            disk = list(files.values())[0]
            check(disk == fetched.replace(b"\r\n", b"\n"), "the file is not the message with LF ends")
            addr, port = srv.at("mail.example.org", "imaps")
            m = imaplib.IMAP4_SSL(addr, port, ssl_context=insecure(), timeout=WAIT)
            m.login(*FRIEND)
            m.select("INBOX")
            m.uid("STORE", uid, "+FLAGS", "(\\Seen)")
            m.logout()
            files = maildir_files(root, FRIEND[0])
            names = list(files)
            check(len(names) == 1 and names[0].startswith("cur/") and names[0].endswith(":2,S"),
                  "after \\Seen expected cur/NAME:2,S, got %r" % names)
        finally:
            rc, err = srv.stop()
        check(rc == 0, "serve exited %d: %s" % (rc, err))
        srv = Serve(mailsim, lesson, ["--maildir", root])
        try:
            again, _ = imap_fetch(srv, subject, "imaps")
            check(again == fetched, "after a restart the message differs")
        finally:
            srv.stop()
        dove = dovecot_reads(root)
        check(subject.encode() in dove and dove.endswith(msg),
              "Dovecot did not read the same message from the maildir: %r" % dove[-200:])
        print("ok maildir: new/ then cur/...:2,S on disk; a restart serves the same %d octets; "
              "Dovecot reads them too" % len(fetched))
    finally:
        shutil.rmtree(root, ignore_errors=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def dovecot_users():
    """Who Dovecot runs as. As root, its own system users (it refuses to
    run logins or mail as root) and the mail as user "mail"; otherwise
    everything as the caller."""
    import grp
    import pwd
    if os.getuid() == 0:
        mail = pwd.getpwnam("mail")
        return {"internal": "dovecot", "login": "dovenull", "uid": mail.pw_uid, "gid": mail.pw_gid}
    me = pwd.getpwuid(os.getuid()).pw_name
    return {"internal": me, "login": me, "uid": os.getuid(), "gid": os.getgid(),
            "group": grp.getgrgid(os.getgid()).gr_name}


def start_dovecot(run, users, port, mail_location, protocols="imap"):
    """Starts Dovecot in the foreground with a throwaway configuration in
    run/ on 127.0.0.1:port (and port+1 for POP3), with the users given as
    (address, password) pairs. Returns the process once it answers."""
    u = dovecot_users()
    os.chmod(run, 0o755)
    index = os.path.join(run, "index")  # Dovecot's own files, written as the mail user
    os.mkdir(index)
    if os.getuid() == 0:
        os.chown(index, u["uid"], u["gid"])
    with open(os.path.join(run, "passwd"), "w") as fh:
        for addr, pw in users:
            fh.write("%s:{PLAIN}%s:%d:%d::%s::\n" % (addr, pw, u["uid"], u["gid"], run))
    conf = os.path.join(run, "dovecot.conf")
    with open(conf, "w") as fh:
        fh.write(DOVECOT_CONF % {"run": run, "port": port, "pop3_port": port + 1,
                                 "mail": mail_location, "internal": u["internal"],
                                 "group": u.get("group", u["internal"]), "login": u["login"],
                                 "protocols": protocols})
    # /usr/sbin is not on every user's PATH
    binary = "/usr/sbin/dovecot" if os.access("/usr/sbin/dovecot", os.X_OK) else "dovecot"
    p = subprocess.Popen([binary, "-F", "-c", conf], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    deadline = time.time() + WAIT
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return p
        except OSError:
            if p.poll() is not None:
                raise Fail("dovecot exited: %s" % p.stderr.read().decode(errors="replace"))
            if time.time() > deadline:
                stop_dovecot(p)
                raise Fail("dovecot did not start")
            time.sleep(0.1)


def stop_dovecot(p):
    p.terminate()
    try:
        p.wait(timeout=WAIT)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def dovecot_reads(root):
    """Starts Dovecot (foreground, loopback, a throwaway config in a temp
    dir) on the maildir and fetches the friend's newest message."""
    run = tempfile.mkdtemp(prefix="mailsim-dovecot-")
    port = free_port()
    u = dovecot_users()
    if os.getuid() == 0:  # Dovecot reads the maildir as user "mail"
        for d, _, files in os.walk(root):
            os.chown(d, u["uid"], u["gid"])
            for f in files:
                os.chown(os.path.join(d, f), u["uid"], u["gid"])
    p = start_dovecot(run, [FRIEND], port, "maildir:%s/%%u:INDEX=%s/index/%%u" % (root, run))
    try:
        m = imaplib.IMAP4("127.0.0.1", port, timeout=WAIT)
        m.login(*FRIEND)
        m.select("INBOX", readonly=True)
        typ, data = m.fetch("*", "(BODY.PEEK[])")
        m.logout()
        return data[0][1]
    finally:
        stop_dovecot(p)
        shutil.rmtree(run, ignore_errors=True)


DOVECOT_CONF = """\
# A throwaway Dovecot for tests: foreground, loopback, no system paths.
base_dir = %(run)s/base
state_dir = %(run)s/state
log_path = /dev/stderr
info_log_path = /dev/null
listen = 127.0.0.1
protocols = %(protocols)s
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = %(internal)s
default_internal_group = %(group)s
default_login_user = %(login)s
mail_location = %(mail)s
pop3_uidl_format = %%08Xu%%08Xv
first_valid_uid = 1
passdb {
  driver = passwd-file
  args = %(run)s/passwd
}
userdb {
  driver = passwd-file
  args = %(run)s/passwd
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = %(port)d
  }
  inet_listener imaps {
    port = 0
  }
  chroot =
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = %(pop3_port)d
  }
  inet_listener pop3s {
    port = 0
  }
  chroot =
}
service anvil {
  chroot =
}
"""


def case_load(srv, sessions=20, messages=200):
    """A scaled-down load test (make bench runs the full one): IMAP sessions
    held open while messages arrive on port 25; every one is counted."""
    addr, port = srv.at("mail.example.org", "imap")
    held = []
    for _ in range(sessions):
        m = imaplib.IMAP4(addr, port, timeout=WAIT)
        m.login(*FRIEND)
        m.select("INBOX")
        held.append(m)
    saddr, sport = srv.at("mail.example.org", "smtp")
    tag = unique("load")
    s = smtplib.SMTP(saddr, sport, timeout=WAIT)
    s.ehlo("load.example.net")
    for i in range(messages):
        s.sendmail("load@example.net", [FRIEND[0]], make_message("%s #%d" % (tag, i), ["n=%d" % i],
                                                                  sender="load@example.net"))
    s.quit()
    deadline = time.time() + WAIT
    while True:
        counts = []
        for m in held:
            typ, data = m.search(None, "SUBJECT", '"%s"' % tag)
            counts.append(len(data[0].split()))
        if all(c == messages for c in counts) or time.time() > deadline:
            break
        time.sleep(0.2)
    for m in held:
        m.logout()
    check(all(c == messages for c in counts),
          "sessions counted %r, want %d each" % (sorted(set(counts)), messages))
    print("ok load: %d IMAP sessions held, %d messages on port 25, each session counts %d"
          % (sessions, messages, messages))


CASES = {
    "smtplib_imaplib": case_smtplib_imaplib,
    "smtps_poplib": case_smtps_poplib,
    "curl_smtp_imap_pop3": case_curl_smtp_imap_pop3,
    "dig": case_dig,
    "limits": case_limits,
    "load": case_load,
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("case", choices=sorted(CASES) + ["maildir"])
    ap.add_argument("--mailsim", required=True)
    ap.add_argument("--lesson", default=LESSON)
    a = ap.parse_args()
    try:
        if a.case == "maildir":
            case_maildir(a.mailsim, a.lesson)
            return 0
        srv = Serve(a.mailsim, a.lesson)
        try:
            CASES[a.case](srv)
        finally:
            rc, err = srv.stop()
        check(rc == 0, "mailsim serve exited with %d:\n%s" % (rc, err))
        return 0
    except Fail as e:
        print("FAIL %s: %s" % (a.case, e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
