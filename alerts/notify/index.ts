/**
 * The notification pipeline, assembled over the store: definitions (config +
 * API), the attempt log, saved state, and the dispatcher the engine notifies.
 *
 *   const notifications = createNotificationDispatcher({ store, config, alertBus, logger });
 *   await notifications.start();                 // loads state, ticks every second
 *   engine = createAlertEngine({ …, notifier: notifications });
 *   notifications.setInstanceView(engine);       // acknowledgements stop escalation
 */
import type { SqmConfig } from '../../config/index.js';
import type { Logger } from '../../server/logger.js';
import type { Store } from '../../store/index.js';
import type { AlertEventBus } from '../bus.js';
import type { AlertInstanceView } from '../types.js';
import { NotificationDefinitions } from './definitions.js';
import { NotificationDispatcher, type DispatcherOptions } from './dispatcher.js';
import { StoreNotificationLog } from './log.js';
import { StoreStateStore } from './state.js';

export * from './definitions.js';
export * from './dispatcher.js';
export * from './log.js';
export * from './notice.js';
export * from './state.js';

export interface NotificationPipelineOptions {
  store: Store;
  config: SqmConfig;
  alertBus: AlertEventBus;
  logger: Logger;
  now?: () => Date;
  instances?: AlertInstanceView;
  env?: NodeJS.ProcessEnv;
  onLog?: DispatcherOptions['onLog'];
  metrics?: DispatcherOptions['metrics'];
}

export function createNotificationDispatcher(options: NotificationPipelineOptions): NotificationDispatcher {
  const now = options.now ?? (() => new Date());
  return new NotificationDispatcher({
    config: options.config,
    definitions: new NotificationDefinitions(options.store, options.config, now),
    alertBus: options.alertBus,
    log: new StoreNotificationLog(options.store),
    state: new StoreStateStore(options.store, now),
    logger: options.logger,
    now,
    ...(options.instances ? { instances: options.instances } : {}),
    ...(options.env ? { env: options.env } : {}),
    ...(options.onLog ? { onLog: options.onLog } : {}),
    ...(options.metrics ? { metrics: options.metrics } : {}),
  });
}
