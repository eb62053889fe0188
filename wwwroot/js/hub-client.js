/**
 * hub-client.js: the official browser client for Hub's SignalR endpoint (`/hubs/events`).
 *
 * A plain ES module, no build step. It wraps the official `@microsoft/signalr` client and adds what the wire leaves
 * to the subscriber (CONTRACT.md, "The official browser client"):
 *  - the handler runs once per event, awaited, one at a time per subscription, in sequence order;
 *  - automatic demand, as GenStage does it: a subscription starts with `maxDemand` credits and the client asks for
 *    `maxDemand - minDemand` more each time that many events have been HANDLED, so a slow handler slows its stream
 *    and what is received but not handled never exceeds the credits granted (no unbounded queue);
 *  - `gap` and `ended` are surfaced in order with the events;
 *  - the client chooses each subscription's id (`Subscribe({id})`), so what the hub sends for it is routed from the
 *    first batch, even when that batch arrives in the same read as the answer;
 *  - reconnects forever (exponential backoff with jitter) until `stop()`, and then resumes each subscription after
 *    the last sequence it handled, so a network blip or a hub restart loses nothing and repeats nothing;
 *  - keeps the log's `epoch` with that sequence and sends both on a resume: a hub whose log was reset (a new or
 *    emptied log, whose sequences are not the old ones) refuses them, and the client calls `onReset` and subscribes
 *    again from the start of the new log (or where `onReset` says), instead of skipping the new log's events.
 *
 * In a page (the hub serves both files):
 *
 *   <script src="/lib/signalr.min.js"></script>
 *   <script type="module">
 *     import { HubClient } from '/js/hub-client.js';
 *     const client = new HubClient({ url: '/hubs/events' });
 *     client.onStateChange((state) => { document.title = state; });
 *     await client.start();
 *     const sub = await client.subscribe({ topics: ['orders.*'], maxDemand: 100 },
 *       async (event) => { await render(event); },
 *       { onGap: (gap) => console.warn('missed', gap), onEnded: (info) => console.warn('ended', info) });
 *     // later: await sub.unsubscribe(); await client.stop();
 *   </script>
 *
 * In Node: `new HubClient({ url: 'http://host:5080/hubs/events', signalR: await import('@microsoft/signalr') })`.
 * MessagePack instead of JSON (the same envelopes): pass `protocol: new MessagePackHubProtocol()` from
 * `@microsoft/signalr-protocol-msgpack` (in a page, `/lib/signalr-protocol-msgpack.min.js` defines
 * `signalR.protocols.msgpack.MessagePackHubProtocol`).
 *
 * Types: hub-client.d.ts, next to this file.
 */

const STATES = Object.freeze({
  disconnected: 'disconnected',
  connecting: 'connecting',
  connected: 'connected',
  reconnecting: 'reconnecting',
});

/** The `ended` reason after which the client resumes the subscription on the next connection. */
const SHUTDOWN = 'shutdown';

/** Whether an invocation failed on the hub (it answered with an error), rather than in the transport. */
const fromHub = (error) => / on the server\./.test(String(error?.message));

/** The hub's answer when a subscription id is no longer live on this connection. */
const notLive = (error) => /subscriptionId: no live subscription/.test(String(error?.message));

/** The hub's answer when the position sent (`epoch`, or `after` beyond its head) belongs to a log that was reset. */
const logWasReset = (error) => fromHub(error) && /\b(epoch|after): .*the log was reset/.test(String(error?.message));

/**
 * The delay before reconnect attempt number `attempt` (0 for the first): exponential backoff from `initialDelayMs`,
 * capped at `maxDelayMs`, with "equal jitter" (a random value between half the step and the whole step), so that many
 * clients dropped at once do not come back at once.
 *
 * @param {number} attempt consecutive failed attempts so far (0, 1, 2, …)
 * @param {{initialDelayMs?: number, maxDelayMs?: number}} [options]
 * @param {() => number} [random] a source of numbers in [0, 1), `Math.random` by default
 * @returns {number} milliseconds
 */
export function backoffDelay(attempt, { initialDelayMs = 250, maxDelayMs = 10_000 } = {}, random = Math.random) {
  const step = Math.min(maxDelayMs, initialDelayMs * 2 ** Math.min(attempt, 30));
  return Math.round(step / 2 + random() * (step / 2));
}

/**
 * One connection to the hub, carrying any number of subscriptions.
 * States: 'disconnected' → 'connecting' → 'connected' ⇄ 'reconnecting', and 'disconnected' again after `stop()`.
 */
export class HubClient {
  /**
   * @param {object} options
   * @param {string} options.url the hub's URL, absolute, or relative to the page in a browser (e.g. '/hubs/events')
   * @param {object} [options.signalR] the `@microsoft/signalr` module; default `globalThis.signalR` (signalr.min.js)
   * @param {() => string | Promise<string>} [options.accessTokenFactory] passed to SignalR's HttpConnectionOptions
   * @param {{initialDelayMs?: number, maxDelayMs?: number}} [options.reconnect] backoff; defaults 250 ms and 10 s
   * @param {number} [options.transport] SignalR's HttpTransportType, passed through
   * @param {boolean} [options.skipNegotiation] passed through (WebSockets only)
   * @param {number} [options.logLevel] SignalR's LogLevel; default Warning
   * @param {object} [options.protocol] a SignalR hub protocol, e.g. `new MessagePackHubProtocol()`; default JSON
   */
  constructor({ url, signalR = globalThis.signalR, accessTokenFactory, reconnect = {}, transport, skipNegotiation, logLevel, protocol } = {}) {
    if (!signalR || typeof signalR.HubConnectionBuilder !== 'function') {
      throw new Error('HubClient: @microsoft/signalr is not available. In a page, load /lib/signalr.min.js before this ' +
        "module; elsewhere pass it: new HubClient({ url, signalR: await import('@microsoft/signalr') }).");
    }
    if (typeof url !== 'string' || url.length === 0) throw new TypeError('HubClient: url must be a non-empty string');
    if (!/^https?:\/\//i.test(url)) {
      if (!globalThis.location?.href) throw new TypeError(`HubClient: url '${url}' is relative; outside a page it must be absolute (http://…)`);
      url = new URL(url, globalThis.location.href).href;
    }
    this._backoff = {
      initialDelayMs: reconnect.initialDelayMs ?? 250,
      maxDelayMs: reconnect.maxDelayMs ?? 10_000,
    };
    const httpOptions = {};
    if (accessTokenFactory !== undefined) httpOptions.accessTokenFactory = accessTokenFactory;
    if (transport !== undefined) httpOptions.transport = transport;
    if (skipNegotiation !== undefined) httpOptions.skipNegotiation = skipNegotiation;
    const builder = new signalR.HubConnectionBuilder()
      .withUrl(url, httpOptions)
      .withAutomaticReconnect({ nextRetryDelayInMilliseconds: (context) => backoffDelay(context.previousRetryCount, this._backoff) })
      .configureLogging(logLevel ?? signalR.LogLevel.Warning);
    if (protocol !== undefined) builder.withHubProtocol(protocol);
    this._connection = builder.build();
    this._connected = signalR.HubConnectionState.Connected;

    this._state = STATES.disconnected;
    this._listeners = new Set();
    this._running = false; // between start() and stop()
    this._generation = 0; // counts the connections made; a subscription is bound to one
    this._restartTimer = null;
    /** @type {Set<Subscription>} subscriptions that are live or waiting to be resumed */
    this._live = new Set();
    /** @type {Map<string, Subscription>} by current subscription id (chosen here, new at each Subscribe) */
    this._byId = new Map();
    this._ids = 0;

    // Handlers return nothing: SignalR would take a returned value for a client result.
    this._connection.on('events', (id, batch) => { this._route(id, 'events', batch); });
    this._connection.on('gap', (id, gap) => { this._route(id, 'gap', gap); });
    this._connection.on('ended', (id, info) => { this._route(id, 'ended', info); });
    this._connection.onreconnecting(() => { this._onLost(); });
    this._connection.onreconnected(() => { this._onConnected(); });
    this._connection.onclose(() => { this._onLost(); this._onClosed(); });
  }

  /** The underlying `HubConnection` (for diagnostics; do not start or stop it directly). */
  get connection() { return this._connection; }

  /** 'disconnected' | 'connecting' | 'connected' | 'reconnecting' */
  get state() { return this._state; }

  /**
   * Calls `listener(state)` on every state change.
   * @param {(state: string) => void} listener
   * @returns {() => void} a function that removes the listener
   */
  onStateChange(listener) {
    this._listeners.add(listener);
    return () => { this._listeners.delete(listener); };
  }

  /**
   * Connects. Rejects if this first attempt fails (the hub is down, the URL is wrong): call it again to retry. Once it
   * has succeeded, every later drop is reconnected automatically, with backoff, until `stop()`.
   * @returns {Promise<void>}
   */
  async start() {
    if (this._running) return this._starting;
    this._running = true;
    this._setState(STATES.connecting);
    this._starting = this._connection.start().then(
      () => { this._onConnected(); },
      (error) => {
        this._running = false;
        this._setState(STATES.disconnected);
        throw error;
      });
    return this._starting;
  }

  /**
   * Disconnects and stops reconnecting. Every subscription is over (no `onEnded`): a handler in progress finishes,
   * queued events are dropped. `start()` may be called again, for new subscriptions.
   * @returns {Promise<void>}
   */
  async stop() {
    this._running = false;
    clearTimeout(this._restartTimer);
    this._restartTimer = null;
    for (const sub of this._live) sub._close(new Error('HubClient stopped'));
    this._live.clear();
    this._byId.clear();
    await this._connection.stop();
    this._setState(STATES.disconnected);
  }

  /**
   * Subscribes and resolves once the hub has answered. If the client is connecting or reconnecting, this waits for
   * the connection; it rejects if the client is not started, or if the hub rejects the request (the message names the
   * field).
   *
   * @param {object} request as `Subscribe(request)` on the wire: topics, types, after, maxDemand, minDemand, demand
   *   ('auto' | 'manual'), overflow, group, dispatch
   * @param {(event: object, sub: Subscription) => (void | Promise<void>)} handler awaited, one event at a time
   * @param {{onGap?: Function, onEnded?: Function, onError?: Function, onReset?: Function}} [callbacks] `onReset(info, sub)`
   *   is awaited when the hub's log was reset (`info`: `{message, epoch, lastSequence}`, the old epoch and the last
   *   sequence of the old log); it answers where to go on in the new log: nothing (the default) for its start, a
   *   sequence to read after it, `null` for new events only, or `false` to end the subscription (`onEnded` with reason
   *   `'reset'`).
   * @returns {Promise<Subscription>}
   */
  async subscribe(request, handler, callbacks = {}) {
    if (!this._running) throw new Error('HubClient: call start() before subscribe()');
    if (typeof handler !== 'function') throw new TypeError('HubClient: subscribe(request, handler): handler must be a function');
    const sub = new Subscription(this, normalize(request), handler, callbacks);
    this._live.add(sub);
    if (this._state === STATES.connected) sub._schedule(this._generation);
    // Otherwise the next connection schedules it, as it does every live subscription.
    await sub._first.promise;
    return sub;
  }

  _setState(state) {
    if (state === this._state) return;
    this._state = state;
    for (const listener of [...this._listeners]) {
      try { listener(state); } catch (error) { console.error('HubClient: a state listener threw', error); }
    }
  }

  /** The connection is gone: the hub forgets its subscriptions, so nobody asks on them any more. */
  _onLost() {
    this._byId.clear();
    for (const sub of this._live) sub._detach();
    if (this._running) this._setState(STATES.reconnecting);
  }

  /** A connection was made (first start, reconnect or restart): the hub knows none of our subscriptions. */
  _onConnected() {
    if (!this._running) return;
    this._generation++;
    this._byId.clear();
    for (const sub of this._live) sub._detach();
    this._setState(STATES.connected);
    for (const sub of this._live) sub._schedule(this._generation);
  }

  /** SignalR gave up or the hub closed the connection without reconnect: start again with the same backoff. */
  _onClosed() {
    if (!this._running) return;
    let attempt = 0;
    const retry = () => {
      this._restartTimer = setTimeout(async () => {
        this._restartTimer = null;
        if (!this._running) return;
        try {
          await this._connection.start();
        } catch {
          if (this._running) { attempt++; retry(); }
          return;
        }
        if (this._running) this._onConnected();
        else this._connection.stop();
      }, backoffDelay(attempt, this._backoff));
    };
    retry();
  }

  _route(id, kind, payload) {
    // Ids are chosen here and routed before Subscribe is sent, so the first batch is routed even when it arrives in the
    // same read as the answer. An unknown id is a subscription already gone (unsubscribed, or on an older connection).
    this._byId.get(id)?._receive(kind, payload);
  }

  /** A subscription id unique on this client's connections: `s1`, `s2`, … (1–64 of `[A-Za-z0-9_.:-]`). */
  _nextId() {
    return `s${++this._ids}`;
  }

  _report(error, sub, onError) {
    if (onError) {
      try { onError(error, sub); return; } catch (thrown) { error = thrown; }
    }
    console.error('HubClient:', error);
  }
}

/**
 * One subscription. Created by `HubClient.subscribe`; its `id` (chosen by the client) changes each time it is resumed
 * on a new connection.
 */
export class Subscription {
  constructor(client, request, handler, callbacks) {
    this._client = client;
    this._request = request;
    this._handler = handler;
    this._callbacks = callbacks;
    this._first = deferred();
    this._chain = Promise.resolve();
    this._phase = 'pending'; // 'pending' (no server subscription) | 'active' | 'ending' (ended received) | 'ended'
    this._id = null;
    this._epoch = 0; // bumped at each (re)subscribe: what was queued before belongs to an older round (not the log's epoch)
    this._queue = []; // { kind, payload, epoch }
    this._draining = null; // the drain loop's latest promise (settled when it is not running)
    this._drainRunning = false;
    this._busy = false; // an event's handler is running
    this._highWater = null; // the highest sequence accepted in this round (the duplicate guard), from the answered position
    this._logEpoch = request.epoch ?? null; // the epoch of the hub's log that lastSequence and position belong to
    this._position = null; // the position the hub answered: the stream starts after it
    this._reset = null; // after a reset: { after } to subscribe with once, in the new log
    // A group member's events are its share: per key in order, redelivered ones may come again, and the group keeps the
    // position; so no duplicate guard and no `after` of its own on a resume.
    this._grouped = request.group !== undefined && request.group !== null;
    this._sinceAsk = 0; // events handled (or skipped) in this epoch since the last automatic ask
    this.lastSequence = null;
    this.handled = 0;
    this.credits = 0;
    this.queued = 0;
  }

  /** The current server subscription id (null while it is being resumed). */
  get id() { return this._id; }

  /** The request as sent (with defaults filled in), except `after` and `epoch`, which a resume replaces. */
  get request() { return this._request; }

  /** The epoch of the hub's log that `lastSequence` belongs to (as `Subscribe` answered it); null before the first answer. */
  get epoch() { return this._logEpoch; }

  /** True once the subscription is over (ended by the hub, unsubscribed, or the client stopped). */
  get closed() { return this._phase === 'ended'; }

  /**
   * Manual demand: grants `n` more credits (an integer ≥ 1). Throws in automatic mode.
   * @param {number} n
   */
  ask(n) {
    if (this._request.demand !== 'manual') throw new Error("Subscription.ask: only with demand: 'manual' (automatic demand asks by itself)");
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`Subscription.ask: n must be an integer ≥ 1 (got ${n})`);
    if (this._phase === 'ended' || this._phase === 'ending') return;
    this.credits += n;
    // While resuming there is no server subscription: the new one is asked for everything owed.
    if (this._phase === 'active') this._sendAsk(n);
  }

  /**
   * Ends the subscription on the hub. A handler in progress finishes; queued events are dropped; `onEnded` is not
   * called. May be called from inside the handler.
   * @returns {Promise<void>}
   */
  async unsubscribe() {
    if (this._phase === 'ended') return;
    const id = this._phase === 'active' ? this._id : null;
    this._close(null);
    this._client._live.delete(this);
    if (id === null) return;
    this._client._byId.delete(id);
    if (this._client._connection.state !== this._client._connected) return;
    try {
      await this._client._connection.invoke('Unsubscribe', id);
    } catch (error) {
      // Already gone on the hub (ended, or the connection dropped meanwhile, which forgets it): nothing left to undo.
      if (fromHub(error) && !notLive(error)) throw error;
    }
  }

  /** No server subscription any more (its connection is gone): stop asking; handling what was received goes on. */
  _detach() {
    if (this._phase !== 'active') return;
    this._phase = 'pending';
    this._id = null;
  }

  _close(reason) {
    this._phase = 'ended';
    this._epoch++;
    this._dropQueue();
    this._id = null;
    if (reason) this._first.reject(reason);
  }

  /** Serialises (re)subscribing: one at a time, each for the connection of its generation. */
  _schedule(generation) {
    this._chain = this._chain.then(() => this._establish(generation)).catch((error) => {
      this._client._report(error, this, this._callbacks.onError);
    });
  }

  async _establish(generation) {
    const client = this._client;
    if (this._phase === 'ended' || this._phase === 'ending' || generation !== client._generation) return;
    // Whatever the previous server subscription sent and was not handled will come again after lastSequence.
    this._detach();
    this._epoch++;
    const discarded = this._dropQueue();
    if (this._request.demand === 'manual') this.credits += discarded; // owed, asked again below
    await this._draining; // the handler in progress, if any
    if (this._phase !== 'pending' || generation !== client._generation) return;

    // Resume after the last sequence handled, or else the position the hub answered last time (nothing handled since);
    // with the epoch they belong to. After a reset, where onReset said, in the new log.
    const reset = this._reset;
    const after = reset ? reset.after
      : this._grouped ? this._request.after : this.lastSequence ?? this._position ?? this._request.after ?? null;
    const epoch = reset ? null : this._logEpoch;
    // The id is routed before Subscribe is sent: what the hub sends for it is received from its first batch on.
    const id = client._nextId();
    const owed = this._request.demand === 'manual' ? this.credits : 0;
    this._id = id;
    this._phase = 'active';
    this._highWater = this._grouped ? null : after; // nothing at or below it belongs to this stream
    this._sinceAsk = 0;
    if (this._request.demand !== 'manual') this.credits = this._request.maxDemand;
    client._byId.set(id, this);
    let wasReset = null;
    try {
      const answer = await client._connection.invoke('Subscribe', wireRequest(this._request, after, epoch, id));
      // Unsubscribed (or the client stopped) while the hub was answering: unsubscribe() has undone it there too.
      if (generation !== client._generation || this._id !== id) return; // that connection is gone: the newer one resumes it
      this._reset = null;
      this._logEpoch = answer.epoch ?? null;
      this._position = answer.position;
      // The stream starts after the answered position (the hub's, not the `after` asked for).
      if (!this._grouped) this._highWater = Math.max(this._highWater ?? answer.position, answer.position);
      if (owed > 0) this._sendAsk(owed);
    } catch (error) {
      client._byId.delete(id);
      if (this._id === id) this._detach();
      if (logWasReset(error) && !reset) {
        wasReset = error; // handled once this Subscribe is over
      } else if (fromHub(error)) {
        // The hub refused the request itself: nothing to resume.
        client._live.delete(this);
        if (!this._first.settled) {
          this._close(error);
        } else {
          this._close(null);
          client._report(error, this, this._callbacks.onError);
          this._callEnded({ reason: 'rejected', message: String(error?.message ?? error) });
        }
      }
      // Otherwise the connection dropped meanwhile; the next one schedules this subscription again.
      if (!wasReset) return;
    }
    if (wasReset) {
      await this._onLogReset(wasReset, generation);
      return;
    }
    this._first.resolve();
  }

  /**
   * The hub's log is not the one lastSequence belongs to: its sequences mean other events. Forget the old position, ask
   * onReset where to go on in the new log, and subscribe there (on this connection, if it is still the current one).
   */
  async _onLogReset(error, generation) {
    const info = { message: String(error?.message ?? error), epoch: this._logEpoch, lastSequence: this.lastSequence };
    this.lastSequence = null;
    this._position = null;
    this._logEpoch = null;
    this._highWater = null;
    let choice;
    if (this._callbacks.onReset) {
      try {
        choice = await this._callbacks.onReset(info, this);
      } catch (thrown) {
        this._client._report(thrown, this, this._callbacks.onError);
        choice = undefined;
      }
    }
    if (this._phase !== 'pending') {
      // Unsubscribed (or the client stopped) inside onReset.
      this._first.reject(new Error('HubClient: the subscription was closed while the log was reset'));
      return;
    }
    if (choice === false) {
      this._client._live.delete(this);
      if (!this._first.settled) {
        this._close(error);
      } else {
        this._close(null);
        this._callEnded({ reason: 'reset', message: info.message });
      }
      return;
    }
    if (choice !== undefined && choice !== null && !(Number.isInteger(choice) && choice >= 0)) {
      this._client._report(new RangeError(`HubClient: onReset must answer nothing, null, false or a sequence ≥ 0 (got ${choice}); the new log is read from its start`), this, this._callbacks.onError);
      choice = undefined;
    }
    this._reset = { after: choice === undefined ? 0 : choice };
    if (generation === this._client._generation) await this._establish(generation);
    // Otherwise the connection is gone: the next one resumes with this._reset.
  }

  _dropQueue() {
    const events = this._queue.filter((item) => item.kind === 'event').length;
    this._queue = [];
    this.queued = this._busy ? 1 : 0;
    return events;
  }

  _receive(kind, payload) {
    if (this._phase !== 'active') return;
    const epoch = this._epoch;
    if (kind === 'events') {
      let skipped = 0;
      for (const event of payload) {
        this.credits--;
        if (!this._grouped && this._highWater !== null && event.sequence <= this._highWater) { skipped++; continue; }
        this._highWater = event.sequence;
        this._queue.push({ kind: 'event', payload: event, epoch });
        this.queued++;
      }
      // A duplicate used a credit without reaching the handler: give it back, so the window keeps its size.
      if (skipped > 0 && this._request.demand === 'manual') {
        this.credits += skipped;
        this._sendAsk(skipped);
      } else if (skipped > 0) {
        this._demand(skipped);
      }
    } else if (kind === 'gap') {
      this._queue.push({ kind: 'gap', payload, epoch });
    } else if (kind === 'ended') {
      this._client._byId.delete(this._id);
      if (payload?.reason === SHUTDOWN) {
        // The hub is stopping and will close the connection; the next connection resumes this subscription.
        this._detach();
        return;
      }
      // Over: what was received is still handled, then onEnded, in order.
      this._phase = 'ending';
      this._client._live.delete(this);
      this._queue.push({ kind: 'ended', payload, epoch });
    }
    if (!this._drainRunning) {
      this._drainRunning = true; // set before the loop starts: it may run to its end without awaiting
      this._draining = this._drain();
    }
  }

  async _drain() {
    try {
      while (this._queue.length > 0) {
        const item = this._queue.shift();
        if (item.kind === 'event') {
          this._busy = true;
          try {
            await this._handler(item.payload, this);
          } catch (error) {
            this._client._report(error, this, this._callbacks.onError);
          }
          this._busy = false;
          this.handled++;
          this.queued--;
          this.lastSequence = item.payload.sequence;
          if (item.epoch === this._epoch) this._demand(1);
        } else if (item.kind === 'gap') {
          if (this._callbacks.onGap) {
            try { await this._callbacks.onGap(item.payload, this); } catch (error) { this._client._report(error, this, this._callbacks.onError); }
          }
          this.lastSequence = Math.max(this.lastSequence ?? item.payload.to, item.payload.to);
        } else {
          this._phase = 'ended';
          this._id = null;
          this._callEnded(item.payload);
        }
      }
    } finally {
      this._drainRunning = false;
    }
  }

  /** Automatic demand: after maxDemand − minDemand events handled, ask for that many again. */
  _demand(count) {
    if (this._request.demand !== 'auto' || this._phase !== 'active') return;
    const step = this._request.maxDemand - this._request.minDemand;
    this._sinceAsk += count;
    while (this._sinceAsk >= step) {
      this._sinceAsk -= step;
      this.credits += step;
      this._sendAsk(step);
    }
  }

  _sendAsk(n) {
    const id = this._id;
    const epoch = this._epoch;
    this._client._connection.invoke('Ask', id, n).catch((error) => {
      // After a drop or an end the hub has forgotten the id; the resume (or the `ended`) takes care of it.
      if (this._epoch === epoch && this._phase === 'active' && fromHub(error) && !notLive(error)) {
        this._client._report(error, this, this._callbacks.onError);
      }
    });
  }

  _callEnded(info) {
    const onEnded = this._callbacks.onEnded;
    if (!onEnded) return;
    try { onEnded(info, this); } catch (error) { this._client._report(error, this, this._callbacks.onError); }
  }
}

/** Fills in the defaults and checks what the client itself relies on; the hub checks the rest. */
function normalize(request) {
  if (request === null || typeof request !== 'object') throw new TypeError('HubClient: subscribe(request, …): request must be an object');
  const maxDemand = request.maxDemand ?? 1000;
  if (!Number.isInteger(maxDemand) || maxDemand < 1) throw new RangeError(`HubClient: maxDemand must be an integer ≥ 1 (got ${maxDemand})`);
  const minDemand = request.minDemand ?? Math.floor(maxDemand / 2);
  if (!Number.isInteger(minDemand) || minDemand < 0 || minDemand >= maxDemand) {
    throw new RangeError(`HubClient: minDemand must be an integer between 0 and maxDemand - 1 = ${maxDemand - 1} (got ${minDemand})`);
  }
  const demand = request.demand ?? 'auto';
  if (demand !== 'auto' && demand !== 'manual') throw new RangeError(`HubClient: demand must be 'auto' or 'manual' (got ${demand})`);
  return Object.freeze({ ...request, after: request.after ?? null, maxDemand, minDemand, demand });
}

/** The Subscribe argument: the request with the client's `id`, and `after` and `epoch` replaced, and nothing undefined. */
function wireRequest(request, after, epoch, id) {
  const wire = {};
  for (const [key, value] of Object.entries(request)) if (value !== undefined && key !== 'epoch') wire[key] = value;
  wire.id = id;
  wire.after = after;
  if (epoch !== null && epoch !== undefined) wire.epoch = epoch;
  return wire;
}

function deferred() {
  const d = { settled: false };
  d.promise = new Promise((resolve, reject) => {
    d.resolve = (value) => { d.settled = true; resolve(value); };
    d.reject = (error) => { if (!d.settled) { d.settled = true; reject(error); } };
  });
  d.promise.catch(() => {}); // a rejection nobody awaits (the client stopped) is not an unhandled one
  return d;
}
