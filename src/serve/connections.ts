/**
 * The server's client sockets and what each is doing, so that a drain can close every socket
 * that holds no work at once and wait only for requests that are really being answered.
 *
 * A socket is in one of three phases:
 *   idle       connected with no request (never active, or between keep-alive requests), or
 *              sending headers slowly: Node emits 'request' only once the headers are complete
 *   receiving  headers arrived, the body is still coming
 *   handling   the whole request arrived and its handler runs, until the response is sent
 *
 * Drain (server.ts): idle sockets are destroyed at once; receiving ones get `graceMs` to finish
 * their body (their request is then answered 503 + Connection: close); handling ones finish,
 * and their responses carry Connection: close so the client opens no new request on them.
 */
import type { Server, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export type Phase = 'idle' | 'receiving' | 'handling';

export class ConnectionTracker {
  private readonly phases = new Map<Socket, Phase>();
  private readonly waiters = new Set<() => boolean>();

  constructor(server: Server) {
    server.on('connection', (socket: Socket) => {
      this.phases.set(socket, 'idle');
      socket.once('close', () => {
        this.phases.delete(socket);
        this.notify();
      });
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const socket = req.socket;
      if (!this.phases.has(socket)) return;
      this.phases.set(socket, 'receiving');
      const done = () => {
        if (this.phases.has(socket)) this.phases.set(socket, 'idle');
        this.notify();
      };
      res.once('finish', done);
      res.once('close', done);
    });
  }

  /** Called when a request's body is complete and its handler is about to run. */
  markHandling(socket: Socket): void {
    if (this.phases.has(socket)) this.phases.set(socket, 'handling');
    this.notify();
  }

  count(phase: Phase): number {
    let n = 0;
    for (const p of this.phases.values()) if (p === phase) n++;
    return n;
  }

  get size(): number {
    return this.phases.size;
  }

  /** Destroys every socket in one of `phases`; returns how many. */
  destroy(phases: readonly Phase[]): number {
    let n = 0;
    for (const [socket, p] of this.phases) {
      if (phases.includes(p)) {
        socket.destroy();
        n++;
      }
    }
    return n;
  }

  /** Resolves once no socket is in `phase`, or after `timeoutMs`. */
  untilNone(phase: Phase, timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const check = () => {
        if (this.count(phase) > 0) return false;
        clearTimeout(timer);
        resolve();
        return true;
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        resolve();
      }, timeoutMs);
      if (!check()) this.waiters.add(check);
    });
  }

  private notify(): void {
    for (const check of this.waiters) if (check()) this.waiters.delete(check);
  }
}
