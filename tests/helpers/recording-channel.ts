/** A channel that keeps what it is sent, and can be told to fail, for dispatcher tests. */
import { ChannelError, type Channel, type Notification } from '../../alerts/notifiers/types.js';

export interface RecordingChannel extends Channel {
  sent: Notification[];
  /** Make the next `n` sends fail (a receiver that is down). */
  failNext(n: number, permanent?: boolean): void;
}

export function recordingChannel(): RecordingChannel {
  const sent: Notification[] = [];
  let failures = 0;
  let permanentFailure = false;
  return {
    name: 'webhook',
    sent,
    failNext(n, permanent = false) {
      failures = n;
      permanentFailure = permanent;
    },
    async send(notification) {
      if (failures > 0) {
        failures--;
        throw new ChannelError('receiver down (test)', permanentFailure);
      }
      sent.push(structuredClone(notification));
    },
  };
}
