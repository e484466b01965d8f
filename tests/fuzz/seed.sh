#!/bin/sh
# Writes the seed corpora under tests/fuzz/corpus/<target>/ from the inputs
# in the unit tests' case tables (valid and invalid alike) and the DNS
# fixtures. Run from the repository root: tests/fuzz/seed.sh
# Files are named s<table><row>; existing files are overwritten, others kept,
# so it can run over a minimised corpus (then run `make fuzz-merge`).
set -eu
cd "$(dirname "$0")/../.."
exec python3 - <<'PY'
import os, re, sys

def literals(text):
    """The C string literals of text in order, adjacent ones joined."""
    out, i, n = [], 0, len(text)
    last_end = None
    while i < n:
        c = text[i]
        if c == '/' and text.startswith('/*', i):
            i = text.index('*/', i) + 2
            continue
        if c == "'":
            i = text.index("'", i + 2) + 1 if text[i + 1] != '\\' else text.index("'", i + 3) + 1
            continue
        if c != '"':
            if not c.isspace():
                last_end = None
            i += 1
            continue
        i += 1
        buf = bytearray()
        while text[i] != '"':
            ch = text[i]
            if ch != '\\':
                buf += ch.encode('latin-1', 'replace')
                i += 1
                continue
            e = text[i + 1]
            simple = {'n': 10, 'r': 13, 't': 9, '\\': 92, '"': 34, "'": 39,
                      '0': None, 'a': 7, 'b': 8, 'f': 12, 'v': 11, '?': 63}
            if e == 'x':
                m = re.match(r'[0-9a-fA-F]+', text[i + 2:])
                buf.append(int(m.group(0), 16) & 0xff)
                i += 2 + len(m.group(0))
            elif e in '01234567':
                m = re.match(r'[0-7]{1,3}', text[i + 1:])
                buf.append(int(m.group(0), 8) & 0xff)
                i += 1 + len(m.group(0))
            else:
                buf.append(simple.get(e, ord(e)))
                i += 2
        i += 1
        if last_end is not None and out:
            out[-1] += bytes(buf)
        else:
            out.append(bytes(buf))
        last_end = i
    return out

def rows(path, table):
    """Each top-level row { ... } of the initializer `table[] = { ... };`."""
    src = open(path, encoding='latin-1').read()
    m = re.search(r'\b' + re.escape(table) + r'\s*\[\]\s*=\s*\{', src)
    if not m:
        sys.exit('seed.sh: no table %s in %s' % (table, path))
    i, depth, start, out = m.end(), 1, None, []
    in_str = False
    while depth:
        c = src[i]
        if in_str:
            if c == '\\':
                i += 1
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
        elif src.startswith('/*', i):
            i = src.index('*/', i) + 1
        elif c == '{':
            depth += 1
            if depth == 2:
                start = i + 1
        elif c == '}':
            depth -= 1
            if depth == 1:
                out.append(src[start:i])
        i += 1
    return out

def put(target, name, data):
    d = os.path.join('tests/fuzz/corpus', target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)

# target, test file, table, index of the literal in a row, prefix, suffix
SPECS = [
    ('fuzz_smtp_command', 'tests/test_smtp.c', 'good', 1, b'', b''),
    ('fuzz_smtp_command', 'tests/test_smtp.c', 'bad', 1, b'', b''),
    ('fuzz_smtp_reply', 'tests/test_smtp.c', 'replies', 1, b'\x07', b''),
    ('fuzz_smtp_reply', 'tests/test_smtp.c', 'reply_lines', 1, b'\x03', b'\r\n'),
    ('fuzz_smtp_data', 'tests/test_smtp_data.c', 'read_cases', 1, b'', b''),
    ('fuzz_smtp_data', 'tests/test_smtp_data.c', 'stuff_cases', 2, b'', b''),
    ('fuzz_pop3_command', 'tests/test_pop3.c', 'cmd_cases', 1, b'', b''),
    ('fuzz_pop3_response', 'tests/test_pop3.c', 'reply_cases', 1, b'\x00', b'\r\n'),
    ('fuzz_pop3_response', 'tests/test_pop3.c', 'reader_cases', 1, b'\x01', b''),
    ('fuzz_msg', 'tests/test_msg.c', 'header_ok', 1, b'', b''),
    ('fuzz_msg', 'tests/test_msg.c', 'header_bad', 1, b'', b''),
    ('fuzz_msg', 'tests/test_msg.c', 'addr_ok', 1, b'', b''),
    ('fuzz_msg', 'tests/test_msg.c', 'addr_bad', 1, b'', b''),
    ('fuzz_msg', 'tests/test_msg.c', 'date_ok', 1, b'', b''),
    ('fuzz_msg', 'tests/test_msg.c', 'date_bad', 1, b'', b''),
    ('fuzz_mime', 'tests/test_mime.c', 'walk_cases', 1, b'', b''),
    ('fuzz_mime', 'tests/test_mime.c', 'ctype_cases', 1, b'Content-Type: ', b'\r\n\r\nx'),
    ('fuzz_imap_command', 'tests/test_imap_command.c', 'good', 1, b'', b''),
    ('fuzz_imap_command', 'tests/test_imap_command.c', 'bad', 1, b'', b''),
    ('fuzz_imap_response', 'tests/test_imap_response.c', 'good', 1, b'', b''),
    ('fuzz_imap_response', 'tests/test_imap_response.c', 'bad', 1, b'', b''),
]

for t, path, table, k, pre, suf in SPECS:
    if not os.path.exists(path):
        continue
    tag = re.sub(r'[^a-z]', '', table)[:8]
    for r, row in enumerate(rows(path, table)):
        lits = literals(row)
        if len(lits) > k:
            put(t, 's%s%d' % (tag, r), pre + lits[k] + suf)

# The SMTP server target: a config byte, then a whole client dialogue.
dialogues = [
    b'EHLO c.example\r\nMAIL FROM:<a@example.com> SIZE=10\r\nRCPT TO:<b@example.org>\r\n'
    b'DATA\r\nSubject: x\r\n\r\n..dot\r\n.\r\nQUIT\r\n',
    b'HELO c.example\r\nMAIL FROM:<>\r\nRCPT TO:<Postmaster>\r\nRSET\r\nNOOP\r\nVRFY bob\r\nQUIT\r\n',
    b'EHLO c.example\r\nSTARTTLS\r\nEHLO c.example\r\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\r\nQUIT\r\n',
    b'EHLO c.example\r\nAUTH LOGIN\r\nYWxpY2U=\r\nc2VjcmV0\r\nMAIL FROM:<a@b.example>\r\n',
    b'EHLO c.example\r\nAUTH PLAIN\r\n*\r\nDATA\r\nRCPT TO:<x@y.example>\r\nHELP\r\nXYZZY\r\n',
    b'EHLO c.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\nbare\nLF\r\n.\r\n',
]
for i, d in enumerate(dialogues):
    put('fuzz_smtp_server', 'sdlg%d' % i, bytes([0x1f]) + d)
    put('fuzz_smtp_server', 'sdlg%dp' % i, bytes([0x00]) + d)

# DNS: the captured fixtures (tests/fixtures/dns/README.md).
fx = 'tests/fixtures/dns'
for f in sorted(os.listdir(fx)):
    if f.endswith('.bin'):
        put('fuzz_dns', 's' + f[:-4], open(os.path.join(fx, f), 'rb').read())

# Lesson files: the scenario fixtures (good and bad) and the lessons.
for d in ('tests/fixtures/scenarios', 'lessons'):
    if os.path.isdir(d):
        for f in sorted(os.listdir(d)):
            if f.endswith('.json'):
                put('fuzz_lesson', 's' + f[:-5].replace('_', ''), open(os.path.join(d, f), 'rb').read())

for t in sorted(os.listdir('tests/fuzz/corpus')):
    print('%-22s %d files' % (t, len(os.listdir(os.path.join('tests/fuzz/corpus', t)))))
PY
