/**
 * The dashboard channel: every alert in a notice is published on the
 * in-process alert bus (alerts/bus.ts), where the live hub forwards it to
 * wallboards and browsers. Always on: the dispatcher sends each event here at
 * once, without grouping, because a wallboard should show an alert the moment
 * it fires (only people are spared by grouping).
 */
import type { AlertEventBus } from '../bus.js';
import type { Channel, Notification } from './types.js';

export function createDashboardChannel(bus: AlertEventBus): Channel {
  return {
    name: 'dashboard',
    async send(notification: Notification): Promise<void> {
      for (const alert of notification.alerts) {
        bus.publish({ type: alert.event, at: notification.createdAt, instance: alert.instance });
      }
    },
  };
}
