// A TCP proxy on 127.0.0.1 for tests that need to break the network between a client and the hub:
//
//   const proxy = new TcpProxy({ host: '127.0.0.1', port: hubPort });
//   const port = await proxy.start();       // 0 (the default) picks a free port; resolves with the one listening
//   ...connect the client to http://127.0.0.1:${port}/hubs/events...
//   proxy.cutAll();                          // every live connection dies at once; the listener stays, so clients reconnect
//   proxy.blocked = true;                    // (optional) new connections are dropped as soon as accepted, until set false
//   proxy.hold(); …; proxy.release();        // (optional) keep what the target sends, then deliver it in one write per
//                                            // connection (several messages in one read, as a busy network does)
//   proxy.injectToClients(bytes);            // (optional) writes raw bytes to every client, as if the target sent them
//   await proxy.close();                     // stops listening and cuts what is left
//
// Each accepted socket is piped to a new connection to the target and back. cutAll() destroys both sockets of every
// pair, which a client sees as the network dropping (no WebSocket close frame, no HTTP response).
import net from 'node:net';

export class TcpProxy {
  /** @param {{host?: string, port: number}} target where to forward connections */
  constructor(target) {
    this.target = { host: target.host ?? '127.0.0.1', port: target.port };
    this.accepted = 0; // connections accepted so far
    this.refused = 0; // connections dropped at once because the proxy was blocked
    this.blocked = false;
    this._pairs = new Set();
    this._holding = false;
    this._server = net.createServer((downstream) => this._accept(downstream));
  }

  /** Connections open now. */
  get open() { return this._pairs.size; }

  /**
   * Starts listening on 127.0.0.1.
   * @param {number} [port] 0 for a free port
   * @returns {Promise<number>} the port
   */
  start(port = 0) {
    return new Promise((resolve, reject) => {
      this._server.once('error', reject);
      this._server.listen(port, '127.0.0.1', () => {
        this._server.off('error', reject);
        this.port = this._server.address().port;
        resolve(this.port);
      });
    });
  }

  /** Destroys every live connection (both sides); new connections are still accepted. Returns how many were cut. */
  cutAll() {
    const pairs = [...this._pairs];
    for (const pair of pairs) this._cut(pair);
    return pairs.length;
  }

  /** From now on, what the target sends is kept in the proxy instead of forwarded. */
  hold() { this._holding = true; }

  /** Forwards what was kept, one write per connection, and forwards as usual again. Returns the bytes released. */
  release() {
    this._holding = false;
    let bytes = 0;
    for (const pair of this._pairs) {
      if (pair.held.length === 0) continue;
      const data = Buffer.concat(pair.held);
      pair.held = [];
      bytes += data.length;
      pair.downstream.write(data);
      if (pair.endAfterRelease) pair.downstream.end();
    }
    return bytes;
  }

  /**
   * Like release(), but first joins the WebSocket text frames held (a server's: unmasked, unfragmented) into one frame,
   * as the hub does when several messages are waiting to be written: the client then handles them in one go.
   */
  releaseAsOneFrame() {
    for (const pair of this._pairs) {
      if (pair.held.length === 0) continue;
      const data = Buffer.concat(pair.held);
      const payloads = [];
      let at = 0;
      while (at < data.length) {
        let length = data[at + 1] & 0x7f;
        let header = 2;
        if (length === 126) { length = data.readUInt16BE(at + 2); header = 4; } else if (length === 127) { length = Number(data.readBigUInt64BE(at + 2)); header = 10; }
        if ((data[at] & 0x0f) !== 1 || (data[at] & 0x80) === 0 || at + header + length > data.length) throw new Error('releaseAsOneFrame: held bytes are not whole text frames');
        payloads.push(data.subarray(at + header, at + header + length));
        at += header + length;
      }
      const payload = Buffer.concat(payloads);
      const head = payload.length < 126 ? Buffer.from([0x81, payload.length])
        : payload.length < 65536 ? Buffer.from([0x81, 126, payload.length >> 8, payload.length & 0xff])
          : Buffer.concat([Buffer.from([0x81, 127]), (() => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(payload.length)); return b; })()]);
      pair.held = [Buffer.concat([head, payload])];
    }
    return this.release();
  }

  /** Bytes kept by hold() and not released yet. */
  get heldBytes() {
    let bytes = 0;
    for (const pair of this._pairs) for (const chunk of pair.held) bytes += chunk.length;
    return bytes;
  }

  /** What hold() kept so far, as text (a hub's JSON frames are readable in it). */
  get heldText() {
    return [...this._pairs].map((pair) => Buffer.concat(pair.held).toString('latin1')).join('');
  }

  /** Writes `data` to every live client connection as if the target had sent it (best between messages). */
  injectToClients(data) {
    for (const pair of this._pairs) pair.downstream.write(data);
    return this._pairs.size;
  }

  /** Stops listening and cuts every live connection. */
  close() {
    const closed = new Promise((resolve) => this._server.close(() => resolve()));
    this.cutAll();
    return closed;
  }

  _accept(downstream) {
    if (this.blocked) {
      this.refused++;
      downstream.on('error', () => {});
      downstream.destroy();
      return;
    }
    this.accepted++;
    const upstream = net.connect(this.target.port, this.target.host);
    const pair = { downstream, upstream, held: [] };
    this._pairs.add(pair);
    downstream.setNoDelay(true);
    upstream.setNoDelay(true);
    downstream.pipe(upstream);
    upstream.on('data', (chunk) => {
      if (this._holding || pair.held.length > 0) pair.held.push(chunk);
      else if (!downstream.write(chunk)) upstream.pause();
    });
    downstream.on('drain', () => upstream.resume());
    upstream.on('end', () => {
      if (pair.held.length > 0) pair.endAfterRelease = true;
      else downstream.end();
    });
    const cut = () => this._cut(pair);
    for (const socket of [downstream, upstream]) {
      socket.on('error', cut);
      socket.on('close', cut);
    }
  }

  _cut(pair) {
    if (!this._pairs.delete(pair)) return;
    pair.downstream.destroy();
    pair.upstream.destroy();
  }
}
