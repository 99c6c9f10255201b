/**
 * DingTalk custom robot (钉钉自定义机器人): POST
 * `{"msgtype":"markdown","markdown":{"title":…,"text":…}}` to the robot URL
 * with its `access_token`. When the robot uses signing (加签), `timestamp`
 * (milliseconds) and `sign` are added as query parameters, where
 * sign = base64(HMAC-SHA256(key = secret, message = `${timestamp}\n${secret}`)),
 * URL-encoded; DingTalk rejects a timestamp more than an hour off.
 */
import { createHmac } from 'node:crypto';
import type { DingtalkSettings } from '../../config/notifications.js';
import { checkRobotAnswer, postJson, secretFromEnv } from './http.js';
import { languagesOf, renderMarkdown, title } from './render.js';
import type { Channel, ChannelDeps, Notification } from './types.js';

export const DINGTALK_DEFAULT_URL = 'https://oapi.dingtalk.com/robot/send';
/** DingTalk's documented limit is 20000 bytes per message; stay under it. */
export const DINGTALK_MAX_BYTES = 18000;

/** The signature DingTalk expects for `timestamp` (ms), before URL-encoding. */
export function dingtalkSign(secret: string, timestamp: number): string {
  return createHmac('sha256', secret).update(`${timestamp}\n${secret}`, 'utf8').digest('base64');
}

export function dingtalkPayload(notification: Notification): { msgtype: 'markdown'; markdown: { title: string; text: string } } {
  // The title shows in the chat list and notifications: the first language's.
  const first = languagesOf(notification.language)[0] ?? 'zh';
  return { msgtype: 'markdown', markdown: { title: title(notification, first), text: renderMarkdown(notification, DINGTALK_MAX_BYTES) } };
}

export function createDingtalkChannel(settings: DingtalkSettings, deps: ChannelDeps): Channel {
  return {
    name: 'dingtalk',
    async send(notification, signal) {
      const url = new URL(settings.url ?? DINGTALK_DEFAULT_URL);
      url.searchParams.set('access_token', secretFromEnv(deps.env, settings.accessTokenEnv, 'DingTalk access token'));
      if (settings.secretEnv) {
        const secret = secretFromEnv(deps.env, settings.secretEnv, 'DingTalk signing secret');
        const timestamp = deps.now().getTime();
        url.searchParams.set('timestamp', String(timestamp));
        // URLSearchParams percent-encodes the base64 text (+, /, =), as DingTalk requires.
        url.searchParams.set('sign', dingtalkSign(secret, timestamp));
      }
      const result = await postJson(deps.fetch, url.toString(), dingtalkPayload(notification), {}, signal);
      checkRobotAnswer(result, 'DingTalk robot');
    },
  };
}
