/**
 * The socket side of `heed serve`, over real TCP on 127.0.0.1: graceful draining (idle and
 * silent sockets closed at once, in-flight requests finished, late requests answered 503 with
 * Connection: close) and the connection limits (request timeout, keep-alive timeout, connection cap).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { startToyServer, toyModelDir, API_KEY, auth } from './helpers.js';

/** A raw TCP client to the server at `base`, collecting what it receives. */
async function rawSocket(base: string): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }> {
  const { hostname, port } = new URL(base);
  const socket = connect({ host: hostname, port: Number(port) });
  await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
  let text = '';
  socket.on('data', (d) => { text += d; });
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return { socket, received: () => text, closed };
}

const within = <T>(p: Promise<T>, ms: number, what: string) =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms).unref())]);

function predictRequest(body: string, { keepAlive = true } = {}): string {
  return `POST /v1/models/slow/predict HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${API_KEY}\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: ${keepAlive ? 'keep-alive' : 'close'}\r\n\r\n${body}`;
}

test('draining closes silent, slow-loris and idle keep-alive sockets at once, finishes in-flight requests, and answers late bodies 503', async () => {
  const server = await startToyServer([{ name: 'slow', dir: toyModelDir('slow', { delayMs: 1000 }) }], { maxBatchSize: 1, maxBatchDelayMs: 0, workers: 1 });
  try {
    const base = await server.listen();
    const silent = await rawSocket(base); // connected, never sends a byte
    const loris = await rawSocket(base);
    loris.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n'); // headers never finished
    const idle = await rawSocket(base); // one finished keep-alive request, then nothing
    idle.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    while (!idle.received().includes('"ok"')) await new Promise((r) => setTimeout(r, 5));
    const late = await rawSocket(base); // headers and half a body before the drain, the rest during it
    const lateBody = JSON.stringify({ input: 'late' });
    const lateRequest = predictRequest(lateBody);
    late.socket.write(lateRequest.slice(0, lateRequest.length - 5));

    // Three predictions in flight, 1 s each on one worker.
    const inFlight = ['one', 'two', 'three'].map((w) => fetch(`${base}/v1/models/slow/predict`, {
      method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ input: w }),
    }));
    while (server.scheduler.pendingRequests < 3) await new Promise((r) => setTimeout(r, 5));

    const t0 = performance.now();
    const closed = server.close();
    late.socket.write(lateRequest.slice(lateRequest.length - 5));
    // Sockets with no work are closed at once, long before the in-flight work (3 × 1 s) ends.
    await within(Promise.all([silent.closed, loris.closed, idle.closed]), 1500, 'closing the idle sockets');
    assert.ok(server.scheduler.pendingRequests > 0, 'the idle sockets closed while predictions were still running');

    const responses = await Promise.all(inFlight);
    assert.deepEqual(responses.map((r) => r.status), [200, 200, 200]);
    for (const r of responses) assert.equal(r.headers.get('connection'), 'close', 'answers during the drain close their connection');
    await within(late.closed, 2000, 'the late socket closing');
    assert.match(late.received(), /^HTTP\/1\.1 503/);
    assert.match(late.received(), /connection: close/i);
    assert.match(late.received(), /"code":"overloaded"/);
    await within(closed, 10_000, 'close()');
    assert.ok(performance.now() - t0 < 10_000);
  } finally {
    await server.close();
  }
});

test('a slow-loris or silent client is cut off after requestTimeoutMs', async () => {
  const server = await startToyServer([{ name: 'slow', dir: toyModelDir('slow') }], { requestTimeoutMs: 400 });
  try {
    const base = await server.listen();
    const silent = await rawSocket(base);
    const loris = await rawSocket(base);
    const drip = setInterval(() => loris.socket.write('X-Drip: 1\r\n'), 100);
    loris.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    const body = await rawSocket(base); // headers complete, body never sent
    body.socket.write(predictRequest('{"input": "never"}').replace(/\r\n\r\n.*$/s, '\r\n\r\n'));
    try {
      await within(Promise.all([silent.closed, loris.closed, body.closed]), 4000, 'cutting off the slow clients');
    } finally {
      clearInterval(drip);
    }
    assert.equal((await fetch(`${base}/healthz`)).status, 200, 'others are still served');
  } finally {
    await server.close();
  }
});

test('an idle keep-alive socket is closed after keepAliveTimeoutMs; connections beyond maxConnections are refused', async () => {
  const server = await startToyServer([{ name: 'slow', dir: toyModelDir('slow') }], { keepAliveTimeoutMs: 300, maxConnections: 2 });
  try {
    const base = await server.listen();
    const idle = await rawSocket(base);
    idle.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await within(idle.closed, 3000, 'closing the idle keep-alive socket');
    assert.match(idle.received(), /"ok"/);

    const a = await rawSocket(base);
    const b = await rawSocket(base);
    await new Promise((r) => setTimeout(r, 50));
    const c = await rawSocket(base);
    await within(c.closed, 2000, 'refusing the third connection');
    assert.equal(c.received(), '');
    a.socket.destroy();
    b.socket.destroy();
  } finally {
    await server.close();
  }
});

test('the server applies its timeouts and connection cap to the HTTP server', async () => {
  const server = await startToyServer([{ name: 'slow', dir: toyModelDir('slow') }], { requestTimeoutMs: 1234, connectionTimeoutMs: 56_789, keepAliveTimeoutMs: 4321, maxConnections: 77 });
  try {
    const http = server.app.server;
    assert.equal(http.requestTimeout, 1234);
    assert.equal(http.headersTimeout, 1234);
    assert.equal(http.timeout, 56_789);
    assert.equal(http.keepAliveTimeout, 4321);
    assert.equal(http.maxConnections, 77);
  } finally {
    await server.close();
  }
});
