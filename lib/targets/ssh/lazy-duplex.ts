import { Duplex } from 'node:stream';

/**
 * A Duplex returned synchronously that wires itself to a stream opened asynchronously (e.g. an
 * SSH forwardOut channel): writes wait until the inner stream is ready, reads follow it, and an
 * error in opening it destroys this stream with that error. mysql2 wants a stream at once.
 */
export class LazyDuplex extends Duplex {
  private inner?: Duplex;
  private waiting: Array<() => void> = [];

  constructor(open: Promise<Duplex>, socketInfo: { remoteAddress: string; remotePort: number }) {
    super();
    // mysql2 treats the stream as a socket.
    Object.assign(this, { setNoDelay() {}, setKeepAlive() {}, setTimeout() {}, ...socketInfo });
    open.then(
      (s) => {
        if (this.destroyed) {
          s.destroy();
          return;
        }
        this.inner = s;
        s.on('data', (d: Buffer) => {
          if (!this.push(d)) s.pause();
        });
        s.on('end', () => this.push(null));
        s.on('error', (e: Error) => this.destroy(e));
        s.on('close', () => {
          if (!this.destroyed && !this.readableEnded) this.push(null);
        });
        for (const w of this.waiting.splice(0)) w();
      },
      (e: Error) => this.destroy(e),
    );
  }

  override _read(): void {
    this.inner?.resume();
  }

  override _write(chunk: Buffer, enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    if (!this.inner) {
      this.waiting.push(() => this._write(chunk, enc, cb));
      return;
    }
    this.inner.write(chunk, enc, cb);
  }

  override _final(cb: (e?: Error | null) => void): void {
    if (!this.inner) {
      this.waiting.push(() => this._final(cb));
      return;
    }
    this.inner.end();
    cb();
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    this.inner?.destroy();
    this.waiting = [];
    cb(err);
  }
}
