/**
 * In-process bus for live alert events: the dashboard channel publishes here
 * and the live WebSocket hub subscribes, so wallboards see an alert the moment
 * it fires, without a query.
 */
import { EventEmitter } from 'node:events';
import type { AlertEvent } from './types.js';

export class AlertEventBus {
  private readonly emitter = new EventEmitter();

  constructor() {
    // Every live subscription may listen; the hub, not Node, bounds clients.
    this.emitter.setMaxListeners(0);
  }

  publish(event: AlertEvent): void {
    this.emitter.emit('alert', event);
  }

  subscribe(listener: (event: AlertEvent) => void): () => void {
    this.emitter.on('alert', listener);
    return () => this.emitter.off('alert', listener);
  }
}
