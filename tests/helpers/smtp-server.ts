/**
 * A real SMTP server for e-mail tests: Debian's python3-aiosmtpd, started on a
 * free loopback port, storing every message in a maildir that tests read back.
 * Messages are parsed with Python's own `email` package (not with SQM code),
 * so a test checks what a real mail client would see.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from './free-port.js';

export const AIOSMTPD_PYTHON = '/usr/bin/python3';

/** Why the SMTP tests cannot run here, or undefined when they can. */
export function smtpSkipReason(): string | undefined {
  if (!existsSync(AIOSMTPD_PYTHON)) return `${AIOSMTPD_PYTHON} is missing (install Debian's python3 and python3-aiosmtpd)`;
  const probe = spawnSync(AIOSMTPD_PYTHON, ['-c', 'import aiosmtpd'], { encoding: 'utf8' });
  if (probe.status !== 0) return `${AIOSMTPD_PYTHON} cannot import aiosmtpd (install Debian's python3-aiosmtpd)`;
  return undefined;
}

export interface ReceivedMail {
  /** Header names in lower case (mail headers are case-insensitive). */
  headers: Record<string, string>;
  /** Decoded header values (RFC 2047), e.g. a Chinese subject. */
  subject: string;
  from: string;
  to: string;
  contentType: string;
  parts: { contentType: string; charset: string | null; text: string }[];
}

export interface SmtpServer {
  port: number;
  /** Every message received so far, oldest first. */
  messages(): ReceivedMail[];
  stop(): Promise<void>;
}

const READ_MAILDIR = `
import json, mailbox, re, sys
from email import policy
from email.parser import BytesParser
box = mailbox.Maildir(sys.argv[1], factory=None, create=False)
# Maildir names start "<seconds>.M<microseconds>P…": delivery order.
def order(key):
    m = re.match(r'(\d+)\.M(\d+)', key)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)
out = []
for key in sorted(box.keys(), key=order):
    with box.get_file(key) as f:
        msg = BytesParser(policy=policy.default).parse(f)
    parts = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        parts.append({"contentType": part.get_content_type(), "charset": part.get_content_charset(), "text": part.get_content()})
    out.append({
        "headers": {k.lower(): str(v) for k, v in msg.items()},
        "subject": str(msg["subject"]), "from": str(msg["from"]), "to": str(msg["to"]),
        "contentType": msg.get_content_type(), "parts": parts,
    })
print(json.dumps(out, ensure_ascii=False))
`;

export async function startSmtpServer(): Promise<SmtpServer> {
  const dir = mkdtempSync(join(tmpdir(), 'sqm-smtp-'));
  const maildir = join(dir, 'maildir');
  const port = await freePort();
  const child: ChildProcess = spawn(AIOSMTPD_PYTHON, ['-m', 'aiosmtpd', '-n', '-l', `127.0.0.1:${port}`, '-c', 'aiosmtpd.handlers.Mailbox', maildir], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  let exited: string | undefined;
  child.once('exit', (code) => {
    exited = `aiosmtpd exited (code ${code}): ${stderr.slice(0, 500)}`;
  });
  await waitForPort(port, 15_000, () => exited);
  return {
    port,
    messages() {
      if (!existsSync(join(maildir, 'new'))) return [];
      const read = spawnSync(AIOSMTPD_PYTHON, ['-c', READ_MAILDIR, maildir], { encoding: 'utf8' });
      if (read.status !== 0) throw new Error(`reading the maildir failed: ${read.stderr}`);
      return JSON.parse(read.stdout) as ReceivedMail[];
    },
    async stop() {
      if (!exited) {
        const done = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await done;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
