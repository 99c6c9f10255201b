/**
 * WeCom group robot (企业微信群机器人): POST
 * `{"msgtype":"markdown","markdown":{"content":…}}` to the robot's webhook URL
 * with its `key` (from the environment) as a query parameter. The robot
 * answers `{"errcode":0}` on success; markdown content is limited to 4096
 * bytes of UTF-8, so long notices are cut on a paragraph boundary.
 */
import type { WecomSettings } from '../../config/notifications.js';
import { checkRobotAnswer, postJson, secretFromEnv } from './http.js';
import { renderMarkdown } from './render.js';
import type { Channel, ChannelDeps, Notification } from './types.js';

export const WECOM_DEFAULT_URL = 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send';
export const WECOM_MAX_BYTES = 4096;

export function wecomPayload(notification: Notification): { msgtype: 'markdown'; markdown: { content: string } } {
  return { msgtype: 'markdown', markdown: { content: renderMarkdown(notification, WECOM_MAX_BYTES) } };
}

export function createWecomChannel(settings: WecomSettings, deps: ChannelDeps): Channel {
  return {
    name: 'wecom',
    async send(notification, signal) {
      const url = new URL(settings.url ?? WECOM_DEFAULT_URL);
      url.searchParams.set('key', secretFromEnv(deps.env, settings.keyEnv, 'WeCom robot key'));
      const result = await postJson(deps.fetch, url.toString(), wecomPayload(notification), {}, signal);
      checkRobotAnswer(result, 'WeCom robot');
    },
  };
}
