// Types for hub-client.js, the official browser client of Hub's SignalR endpoint (`/hubs/events`).
// The wire names (SubscribeRequest, HubEvent, Gap, EndedInfo) are those of CONTRACT.md.

/** The client's connection state. */
export type ConnectionState = 'disconnected' | 'connecting' | 'connected' | 'reconnecting';

/** Reconnect backoff: exponential from `initialDelayMs`, capped at `maxDelayMs`, with jitter; retries until `stop()`. */
export interface ReconnectOptions {
  /** The first delay's upper bound, in ms. Default 250. */
  initialDelayMs?: number;
  /** The longest delay, in ms. Default 10000. */
  maxDelayMs?: number;
}

/** The part of the `@microsoft/signalr` module the client uses (pass the whole module). */
export interface SignalRModule {
  HubConnectionBuilder: new () => unknown;
  HubConnectionState: { Connected: string };
  LogLevel: { Warning: number };
}

export interface HubClientOptions {
  /** The hub's URL: absolute, or relative to the page in a browser (e.g. `'/hubs/events'`). */
  url: string;
  /** The `@microsoft/signalr` module. Default `globalThis.signalR` (what `/lib/signalr.min.js` defines). */
  signalR?: SignalRModule;
  /** Passed to SignalR's `HttpConnectionOptions.accessTokenFactory`. */
  accessTokenFactory?: () => string | Promise<string>;
  /** Reconnect backoff. */
  reconnect?: ReconnectOptions;
  /** SignalR's `HttpTransportType` (e.g. `signalR.HttpTransportType.WebSockets`), passed through. */
  transport?: number;
  /** Passed through (WebSockets only). */
  skipNegotiation?: boolean;
  /** SignalR's `LogLevel`. Default `LogLevel.Warning`. */
  logLevel?: number;
  /** A SignalR hub protocol, e.g. `new MessagePackHubProtocol()` from `@microsoft/signalr-protocol-msgpack`. Default JSON.
   * The hub sends the same envelopes under both. */
  protocol?: unknown;
}

/** `Subscribe(request)` on the wire. Omitted fields take the hub's defaults. The client sends its own `id` (new at each
 * resume), so none is given here. */
export interface SubscribeRequest {
  /** Topic patterns: segments of `[A-Za-z0-9_-]`, `*` for one segment, a last `>` for one or more. */
  topics: string[];
  /** Only events of these types. */
  types?: string[] | null;
  /** `null` (default): new events only; a sequence: replay the log after it. A resume replaces it with `lastSequence`. */
  after?: number | null;
  /**
   * The epoch of the log `after` belongs to (as `Subscription.epoch` or `GET /api/events` gave it), when resuming from a
   * position kept elsewhere: if the hub's log is another one, `onReset` is called instead of reading from the wrong
   * place. A resume replaces it with the epoch the hub answered.
   */
  epoch?: string | null;
  /** The demand window. Default 1000. */
  maxDemand?: number;
  /** The client re-asks `maxDemand - minDemand` after that many events handled. Default `Math.floor(maxDemand / 2)`. */
  minDemand?: number;
  /** `'auto'` (default): the client asks by itself; `'manual'`: only `Subscription.ask(n)` asks. */
  demand?: 'auto' | 'manual';
  /** Past the retention: `'dropOldest'` (default) sends a gap; `'disconnect'` ends the subscription. */
  overflow?: 'dropOldest' | 'disconnect';
  /** A group name, for subscriptions that share events. */
  group?: string | null;
  /** How a group shares events. */
  dispatch?: 'broadcast' | 'demand' | 'partition';
}

/** An event as the hub delivers it (the envelope). */
export interface HubEvent<TData = unknown> {
  /** Its position in the hub's log; strictly increasing within a subscription. */
  sequence: number;
  topic: string;
  type?: string;
  id?: string;
  key?: string;
  /** When the hub appended it (ISO 8601). */
  time: string;
  data?: TData;
  headers?: Record<string, string>;
  /** In a group: delivered before to a member that left. */
  redelivered?: boolean;
}

/** `gap`: matching events in `from..to` were skipped for this subscriber. */
export interface Gap {
  from: number;
  to: number;
  reason: 'overflow' | 'retention' | string;
}

/**
 * Why a subscription is over. From the hub: `'deleted'` (`DELETE /api/subscriptions/{id}`), `'overflow'` or
 * `'retention'` (behind the retention with `overflow: 'disconnect'`), or another reason it may add. From the client:
 * `'rejected'` when the hub refused to resume it (with `message`); `'reset'` when the hub's log was reset and `onReset`
 * answered `false`. `'shutdown'` is never passed: the client resumes.
 */
export interface EndedInfo {
  reason: 'deleted' | 'overflow' | 'retention' | 'rejected' | 'reset' | string;
  /** The hub's error, for `'rejected'`. */
  message?: string;
}

/** What `onReset` is told: the hub's log is not the one the subscription's position belongs to. */
export interface ResetInfo {
  /** The hub's error (it names `epoch` or `after` and says the log was reset). */
  message: string;
  /** The epoch of the old log (`null` if the hub never answered one, e.g. an `after` given with no `epoch`). */
  epoch: string | null;
  /** The last sequence handled (or passed by a gap) in the old log; `null` if none. */
  lastSequence: number | null;
}

/**
 * Where to go on in the new log: `undefined` (the default) from its start, a sequence to read after it, `null` for new
 * events only, `false` to end the subscription (`onEnded` with reason `'reset'`).
 */
export type ResetChoice = undefined | null | false | number;

/** Awaited once per event, one at a time per subscription, in sequence order. A throw goes to `onError`. */
export type EventHandler<TData = unknown> = (event: HubEvent<TData>, subscription: Subscription) => void | Promise<void>;

export interface SubscriptionCallbacks {
  /** A gap, in order with the events; `lastSequence` moves to `gap.to` once it returns. May be async (awaited). */
  onGap?: (gap: Gap, subscription: Subscription) => void | Promise<void>;
  /** The subscription is over (after the events received before it were handled); it is not resumed. */
  onEnded?: (info: EndedInfo, subscription: Subscription) => void;
  /** A handler or callback threw, or the hub refused an `Ask`. Without it, errors go to `console.error`. */
  onError?: (error: unknown, subscription: Subscription) => void;
  /**
   * The hub's log was reset (a new or emptied log: its sequences are not the old ones), found when (re)subscribing:
   * awaited before the subscription goes on, with no handler running; its answer says where. Without it, the new log
   * is read from its start.
   */
  onReset?: (info: ResetInfo, subscription: Subscription) => ResetChoice | Promise<ResetChoice>;
}

/** One subscription, created by `HubClient.subscribe`. */
export declare class Subscription {
  private constructor();
  /** The current subscription id, chosen by the client (`s1`, `s2`, …, unique on its connection; `GET /api/subscriptions`
   * shows it as `subscriptionId`); it changes at each resume and is `null` while resuming or once closed. */
  readonly id: string | null;
  /** The request as sent, defaults filled in (`after` and `epoch` as first given). */
  readonly request: Readonly<SubscribeRequest> & { maxDemand: number; minDemand: number; demand: 'auto' | 'manual'; after: number | null };
  /** The epoch of the hub's log that `lastSequence` belongs to, as the hub answered it; `null` before the first answer. */
  readonly epoch: string | null;
  /** The sequence of the last event handled (or the `to` of the last gap passed); `null` before any. */
  readonly lastSequence: number | null;
  /** Events handled so far (those whose handler threw included). */
  readonly handled: number;
  /** Credits the client believes the hub holds: granted − received. */
  readonly credits: number;
  /** Events received and not handled yet (the one being handled included); never more than `maxDemand`. */
  readonly queued: number;
  /** Whether it is over (ended by the hub, unsubscribed, or the client stopped). */
  readonly closed: boolean;
  /** Manual demand: grants `n` (an integer ≥ 1) more credits. Throws in automatic mode. */
  ask(n: number): void;
  /** Ends it on the hub; a handler in progress finishes, queued events are dropped, `onEnded` is not called. */
  unsubscribe(): Promise<void>;
}

/** One connection to the hub, carrying any number of subscriptions; reconnects and resumes them until `stop()`. */
export declare class HubClient {
  /** Throws if `signalR` is neither given nor on `globalThis`, or if `url` is relative outside a page. */
  constructor(options: HubClientOptions);
  /** The underlying SignalR `HubConnection` (for diagnostics; do not start or stop it directly). */
  readonly connection: any;
  readonly state: ConnectionState;
  /** Calls `listener` on every state change; returns a function that removes it. */
  onStateChange(listener: (state: ConnectionState) => void): () => void;
  /**
   * Connects. Rejects if this first attempt fails (call it again to retry); after it has succeeded, drops are
   * reconnected automatically, with backoff, until `stop()`.
   */
  start(): Promise<void>;
  /** Disconnects and stops reconnecting; every subscription is over (without `onEnded`). */
  stop(): Promise<void>;
  /**
   * Subscribes; resolves once the hub has answered (waiting for the connection if it is connecting or reconnecting).
   * Rejects if the client is not started or the hub refuses the request (the message names the field).
   */
  subscribe<TData = unknown>(request: SubscribeRequest, handler: EventHandler<TData>, callbacks?: SubscriptionCallbacks): Promise<Subscription>;
}

/** The reconnect delay for attempt `attempt` (0-based): `min(max, initial·2^attempt)`, jittered into its upper half. */
export declare function backoffDelay(attempt: number, options?: ReconnectOptions, random?: () => number): number;
