/**
 * The deployment files point at what the server really exports: probe paths come from
 * ROUTES, the autoscaling metric from METRIC_NAMES, flags from ServeConfig's keys. Renaming a
 * route, a metric or a flag in src/serve fails here instead of in a cluster.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { ROUTES } from '../../src/serve/routes.js';
import { METRIC_NAMES } from '../../src/serve/metrics.js';
import { parseServeArgs } from '../../src/cli/serve.js';
import { DEFAULT_SERVE_CONFIG } from '../../src/serve/config.js';

const root = new URL('../../deploy/', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');
const docs = (path: string) => parseAllDocuments(read(path)).map((d) => d.toJS() as any);

const [deployment] = docs('k8s/deployment.yaml');
const container = deployment.spec.template.spec.containers[0];
const containerPort = container.ports.find((p: any) => p.name === 'http');

test('the Deployment probes the server’s real health and readiness routes on its port', () => {
  assert.equal(deployment.kind, 'Deployment');
  assert.equal(container.readinessProbe.httpGet.path, ROUTES.ready);
  assert.equal(container.livenessProbe.httpGet.path, ROUTES.health);
  assert.equal(container.startupProbe.httpGet.path, ROUTES.health);
  for (const probe of [container.readinessProbe, container.livenessProbe]) assert.equal(probe.httpGet.port, containerPort.name);
  assert.equal(containerPort.containerPort, 8080);
  assert.equal(deployment.spec.template.metadata.annotations['prometheus.io/path'], ROUTES.metrics);
});

test('the Deployment drains before it is killed and takes API keys from a Secret', () => {
  const spec = deployment.spec.template.spec;
  assert.ok(container.lifecycle.preStop, 'preStop hook');
  const sleepMs = Number(/setTimeout\(\(\) => \{\}, (\d+)\)/.exec(container.lifecycle.preStop.exec.command.join(' '))?.[1]);
  const args = parseServeArgs(container.args);
  const timeoutS = (args.config.timeoutMs ?? DEFAULT_SERVE_CONFIG.timeoutMs) / 1000;
  assert.ok(spec.terminationGracePeriodSeconds > sleepMs / 1000 + timeoutS, 'grace period covers preStop sleep + the longest request');
  const keys = container.env.find((e: any) => e.name === 'HEED_API_KEYS');
  assert.ok(keys.valueFrom.secretKeyRef.name, 'HEED_API_KEYS from a Secret');
  assert.equal(container.env.find((e: any) => e.name === 'HEED_ADMIN_KEY').valueFrom.secretKeyRef.name, keys.valueFrom.secretKeyRef.name);
  const [secret] = docs('k8s/secret.example.yaml');
  assert.equal(secret.metadata.name, keys.valueFrom.secretKeyRef.name);
  assert.ok(secret.stringData[keys.valueFrom.secretKeyRef.key] !== undefined);
  assert.ok(spec.securityContext.runAsNonRoot);
});

test('the container args are valid heed serve flags and fit the CPU limit', () => {
  const args = parseServeArgs(container.args);
  assert.deepEqual(args.positional, ['/models/g2p']);
  const cpus = Number(container.resources.limits.cpu);
  const workers = args.config.workers ?? 1, threads = args.config.threadsPerWorker ?? DEFAULT_SERVE_CONFIG.threadsPerWorker;
  assert.ok(workers + threads - 1 <= cpus, `workers ${workers} + pool ${threads} − 1 ≤ ${cpus} CPUs`);
  assert.ok(container.resources.requests.cpu && container.resources.requests.memory);
  assert.ok(container.resources.limits.memory);
});

test('the container follows heed serve\'s defaults, with workers set by their rule from the CPU limit', () => {
  // The default worker count comes from os.availableParallelism(), the node's cores on Node 20, not the pod's
  // quota; so the Deployment sets --workers to the default's rule (one per core but one) applied to its limit,
  // and leaves batching, threads and timeouts to the server's defaults.
  const args = parseServeArgs(container.args);
  assert.deepEqual(Object.keys(args.config), ['workers']);
  assert.equal(args.config.workers, Math.max(1, Number(container.resources.limits.cpu) - 1));
  assert.equal(Number(container.resources.requests.cpu), Number(container.resources.limits.cpu));
});

test('the Service targets the container port', () => {
  const [service] = docs('k8s/service.yaml');
  assert.equal(service.spec.ports[0].targetPort, containerPort.name);
  assert.deepEqual(service.spec.selector, deployment.spec.selector.matchLabels);
});

test('the HPA scales on CPU and on the queue-depth metric the server exports, via the adapter rule', () => {
  const [hpa] = docs('k8s/hpa.yaml');
  assert.equal(hpa.spec.scaleTargetRef.name, deployment.metadata.name);
  assert.ok(hpa.spec.metrics.some((m: any) => m.type === 'Resource' && m.resource.name === 'cpu'));
  const pods = hpa.spec.metrics.find((m: any) => m.type === 'Pods');
  assert.equal(pods.pods.metric.name, METRIC_NAMES.queueDepth);
  const [adapter] = docs('k8s/prometheus-adapter-rules.yaml');
  const rule = adapter.rules.custom.find((r: any) => r.name.as === pods.pods.metric.name);
  assert.ok(rule, 'an adapter rule exposes the HPA metric');
  assert.ok(rule.seriesQuery.startsWith(METRIC_NAMES.queueDepth + '{'));
  assert.ok(new RegExp(rule.name.matches).test(METRIC_NAMES.queueDepth));
});

test('the Dockerfile builds on node:20-slim, runs as a non-root user and health-checks /healthz', () => {
  const dockerfile = read('Dockerfile');
  const froms = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
  assert.ok(froms.length >= 1 && froms.every((f) => f === 'node:20-slim'), froms.join(', '));
  assert.match(dockerfile, /RUN npm ci/);
  const users = [...dockerfile.matchAll(/^USER (\S+)/gm)].map((m) => m[1]);
  assert.ok(users.length > 0 && users[users.length - 1] !== 'root');
  const health = /^HEALTHCHECK[\s\S]*?CMD (.*)$/m.exec(dockerfile)?.[1] ?? '';
  assert.ok(health.includes(`127.0.0.1:${containerPort.containerPort}${ROUTES.health}`), health);
  assert.match(dockerfile, /ENTRYPOINT \["node", "bin\/heed.js", "serve"/);
});
