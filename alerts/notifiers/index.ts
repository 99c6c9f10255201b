/**
 * One factory from a receiver's definition to its channel. Adding a channel:
 * a file here implementing `Channel`, a case below, its settings in
 * config/notifications.ts (README.md in this folder walks through it).
 */
import type { ReceiverConfig } from '../../config/notifications.js';
import type { AlertEventBus } from '../bus.js';
import { createAlertmanagerChannel } from './alertmanager.js';
import { createDashboardChannel } from './dashboard.js';
import { createDingtalkChannel } from './dingtalk.js';
import { createEmailChannel } from './email.js';
import { createWebhookChannel } from './webhook.js';
import { createWecomChannel } from './wecom.js';
import { ChannelError, type Channel, type ChannelDeps } from './types.js';

export * from './types.js';

export interface ChannelFactoryDeps extends ChannelDeps {
  bus: AlertEventBus;
  timeoutMs: number;
}

export function createChannel(receiver: ReceiverConfig, deps: ChannelFactoryDeps): Channel {
  const missing = (): never => {
    throw new ChannelError(`receiver "${receiver.id}" has no ${receiver.channel} settings`, true);
  };
  switch (receiver.channel) {
    case 'dashboard':
      return createDashboardChannel(deps.bus);
    case 'webhook':
      return createWebhookChannel(receiver.webhook ?? missing(), deps);
    case 'email':
      return createEmailChannel(receiver.email ?? missing(), deps, deps.timeoutMs);
    case 'wecom':
      return createWecomChannel(receiver.wecom ?? missing(), deps);
    case 'dingtalk':
      return createDingtalkChannel(receiver.dingtalk ?? missing(), deps);
    case 'alertmanager':
      return createAlertmanagerChannel(receiver.alertmanager ?? missing(), deps);
  }
}
