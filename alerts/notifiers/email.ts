/**
 * E-mail over SMTP (nodemailer): a subject naming severity, rule and region;
 * a text part and an HTML part, each in the receiver's language(s). The
 * transport is made once per receiver and reused; the SMTP password comes
 * from the environment variable the receiver names.
 */
import nodemailer, { type Transporter } from 'nodemailer';
import type { EmailSettings } from '../../config/notifications.js';
import { secretFromEnv } from './http.js';
import { renderHtml, renderText, subject } from './render.js';
import { ChannelError, type Channel, type ChannelDeps, type Notification } from './types.js';

export interface EmailMessage {
  from: string;
  to: string[];
  cc?: string[];
  subject: string;
  text: string;
  html: string;
  headers: Record<string, string>;
}

export function emailMessage(settings: EmailSettings, notification: Notification): EmailMessage {
  return {
    from: settings.from,
    to: settings.to,
    ...(settings.cc && settings.cc.length > 0 ? { cc: settings.cc } : {}),
    subject: subject(notification),
    text: renderText(notification),
    html: renderHtml(notification),
    headers: { 'X-SQM-Notification-Id': notification.id },
  };
}

export function createEmailChannel(settings: EmailSettings, deps: ChannelDeps, timeoutMs: number): Channel {
  let transport: Transporter | undefined;
  const open = (): Transporter => {
    if (transport) return transport;
    const smtp = settings.smtp;
    const auth = smtp.user && smtp.passwordEnv ? { user: smtp.user, pass: secretFromEnv(deps.env, smtp.passwordEnv, 'SMTP password') } : undefined;
    transport = nodemailer.createTransport({
      host: smtp.host,
      port: smtp.port,
      secure: smtp.secure ?? smtp.port === 465,
      requireTLS: smtp.requireTLS ?? false,
      ...(auth ? { auth } : {}),
      // nodemailer cannot be aborted mid-send, so its own timeouts bound each phase.
      connectionTimeout: timeoutMs,
      greetingTimeout: timeoutMs,
      socketTimeout: timeoutMs,
    });
    return transport;
  };
  return {
    name: 'email',
    async send(notification) {
      const message = emailMessage(settings, notification);
      try {
        const info = await open().sendMail(message) as { rejected?: unknown[] };
        if (Array.isArray(info.rejected) && info.rejected.length > 0) {
          throw new ChannelError(`the SMTP server refused ${info.rejected.map(String).join(', ')}`, true);
        }
      } catch (error) {
        if (error instanceof ChannelError) throw error;
        const e = error as { code?: string; responseCode?: number; message: string };
        // 5xx SMTP replies are permanent (RFC 5321 §4.2.1); connection trouble is not.
        const permanent = typeof e.responseCode === 'number' && e.responseCode >= 500;
        throw new ChannelError(`SMTP ${settings.smtp.host}:${settings.smtp.port}: ${e.message}`, permanent);
      }
    },
    close() {
      transport?.close();
      transport = undefined;
    },
  };
}
