/** The live stream's settings: config `live:` over these defaults (config/default.yaml lists them too). */
import type { SqmConfig } from '../../config/index.js';

export interface LiveSettings {
  tickMs: number;
  heartbeatMs: number;
  maxBufferedBytes: number;
  closeGraceMs: number;
  maxClients: number;
  maxSubscriptionsPerClient: number;
  maxSubscriptions: number;
  maxConcurrentQueries: number;
  maxValuesPerSubscription: number;
}

export const LIVE_DEFAULTS: Readonly<LiveSettings> = Object.freeze({
  tickMs: 1000,
  heartbeatMs: 15_000,
  // 1 MiB: hundreds of updates for a wallboard; a client this far behind is not catching up.
  maxBufferedBytes: 1024 * 1024,
  closeGraceMs: 5000,
  maxClients: 5000,
  maxSubscriptionsPerClient: 16,
  maxSubscriptions: 1000,
  maxConcurrentQueries: 4,
  maxValuesPerSubscription: 20_000,
});

export function liveSettings(config: SqmConfig): LiveSettings {
  return { ...LIVE_DEFAULTS, ...config.live };
}
