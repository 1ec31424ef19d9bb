import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { CONFIG_VARIABLES, loadConfig } from '@app/config';
import { ENTRY, REPO_ROOT } from './support/app-process';
import { freePort } from './support/redis-server';
import { OpsSystem, run, startOpsSystem } from './ops-support/system';

/**
 * No Docker engine or cluster runs here, so the deployment files are checked against the real
 * apps instead: every file parses, every probe path and port is one the built apps answer on,
 * every healthcheck command works against a running process, the ConfigMap is SPEC §9, and
 * the image's production dependencies cover what the compiled code loads.
 */

jest.setTimeout(90_000);

const read = (path: string): string => readFileSync(join(REPO_ROOT, path), 'utf8');
const VARIABLE_NAMES = CONFIG_VARIABLES.map((variable) => variable.name).sort();

interface Probe {
  httpGet: { path: string; port: number | string };
}
interface Container {
  name: string;
  command: string[];
  ports: Array<{ name: string; containerPort: number }>;
  envFrom?: Array<{ configMapRef: { name: string } }>;
  env?: Array<{ name: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }>;
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  volumeMounts: Array<{ name: string; mountPath: string }>;
}
interface PodSpec {
  securityContext: { runAsNonRoot: boolean; runAsUser: number };
  terminationGracePeriodSeconds: number;
  containers: Container[];
  volumes: Array<{ name: string; persistentVolumeClaim?: { claimName: string } }>;
}
interface Manifest {
  kind: string;
  metadata: { name: string };
  data?: Record<string, string>;
  spec: {
    accessModes?: string[];
    ports?: Array<{ port: number; targetPort: string | number }>;
    template?: { metadata: { annotations?: Record<string, string> }; spec: PodSpec };
  };
}
interface ComposeService {
  image?: string;
  command?: string[];
  container_name?: string;
  ports?: string[];
  profiles?: string[];
  volumes?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
}

/** Runs a container healthcheck's command (`CMD node -e ...`) here, against `port`. */
async function runHealthcheck(
  test: string[],
  fromPort: number,
  toPort: number,
  env: Record<string, string> = { PORT: String(toPort) },
) {
  expect(test[0]).toBe('CMD');
  const [command, ...args] = test.slice(1);
  expect(command).toBe('node');
  const script = args.map((arg) => arg.replace(`127.0.0.1:${fromPort}`, `127.0.0.1:${toPort}`));
  return run(process.execPath, script, env, 15_000);
}

/**
 * Whether Docker's build context takes `path` under these .dockerignore patterns: the last
 * pattern that matches the path or one of its parent folders wins; `!` lets it back in.
 */
function dockerContextTakes(patterns: string[], path: string): boolean {
  const regexOf = (pattern: string): RegExp =>
    new RegExp(
      `^${pattern
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*\*\//g, '(?:.*/)?')
        .replace(/\*\*/g, '.*')
        .replace(/\*/g, '[^/]*')
        .replace(/\?/g, '[^/]')}$`,
    );
  const parts = path.split('/');
  const prefixes = parts.map((_, index) => parts.slice(0, index + 1).join('/'));
  let taken = true;
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    const regex = regexOf(negated ? raw.slice(1) : raw);
    if (prefixes.some((prefix) => regex.test(prefix))) taken = negated;
  }
  return taken;
}

describe('deployment files', () => {
  let system: OpsSystem;
  let apiPort: number;
  let workerPort: number;

  beforeAll(async () => {
    system = await startOpsSystem();
    apiPort = system.api!.port;
    workerPort = system.workers[0].port;
  });
  afterAll(async () => {
    await system?.stop();
  });

  describe('Dockerfile', () => {
    const dockerfile = read('Dockerfile');
    const lines = dockerfile
      .replace(/\\\n/g, ' ')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#'));
    const stages: Array<{ name: string; lines: string[] }> = [];
    for (const line of lines) {
      const from = /^FROM\s+(\S+)\s+AS\s+(\S+)/i.exec(line);
      if (from) stages.push({ name: from[2], lines: [] });
      else stages.at(-1)?.lines.push(line);
    }
    const [build, runtime] = stages;

    it('builds in one stage and ships production dependencies and dist in a slim one of the Node the project names', () => {
      expect(stages.map((stage) => stage.name)).toEqual(['build', 'runtime']);
      // One Node version everywhere: .nvmrc, package.json engines, the image (and .ci/run reads .nvmrc).
      const nodeMajor = readFileSync(join(REPO_ROOT, '.nvmrc'), 'utf8').trim();
      expect(nodeMajor).toBe('24');
      const engines = (
        JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
          engines: { node: string };
        }
      ).engines.node;
      expect(engines).toBe(`>=${nodeMajor}`);
      expect(dockerfile).toMatch(
        new RegExp(`^ARG NODE_IMAGE=node:${nodeMajor}-[a-z]*-?slim$`, 'm'),
      );
      expect(process.versions.node.split('.')[0]).toBe(nodeMajor);
      expect(build.lines).toEqual(
        expect.arrayContaining([expect.stringMatching(/^RUN npm ci\b/), 'RUN npm run build']),
      );
      expect(runtime.lines).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^RUN npm ci --omit=dev --ignore-scripts\b/),
          'COPY --from=build /app/dist ./dist',
        ]),
      );
    });

    it('runs as a non-root user, with the API as the default command and a healthcheck', () => {
      const user = runtime.lines.filter((line) => line.startsWith('USER ')).at(-1);
      expect(user).toBeDefined();
      expect(user!.slice(5).trim()).not.toMatch(/^(root|0)(:|$)/);
      const cmd = runtime.lines.filter((line) => line.startsWith('CMD ')).at(-1)!;
      const command = JSON.parse(cmd.slice(4)) as string[];
      expect(command).toEqual(['node', 'dist/apps/api/src/main.js']);
      expect(join(REPO_ROOT, command[1])).toBe(ENTRY.api);
      expect(runtime.lines.some((line) => line.startsWith('HEALTHCHECK '))).toBe(true);
    });

    it('has a HEALTHCHECK that passes against the running API and fails when it is gone', async () => {
      const line = runtime.lines.find((candidate) => candidate.startsWith('HEALTHCHECK '))!;
      const test = JSON.parse(line.slice(line.indexOf('CMD ') + 4)) as string[];
      expect((await runHealthcheck(['CMD', ...test], 0, apiPort)).code).toBe(0);
      const gone = String(await freePort());
      const noWorker = String(await freePort());
      expect(
        (await runHealthcheck(['CMD', ...test], 0, 0, { PORT: gone, WORKER_HEALTH_PORT: noWorker }))
          .code,
      ).toBe(1);
    });

    it('answers the HEALTHCHECK from a worker container too, where only WORKER_HEALTH_PORT listens', async () => {
      const line = runtime.lines.find((candidate) => candidate.startsWith('HEALTHCHECK '))!;
      const test = JSON.parse(line.slice(line.indexOf('CMD ') + 4)) as string[];
      const nothing = String(await freePort());
      const worker = { PORT: nothing, WORKER_HEALTH_PORT: String(workerPort) };
      expect((await runHealthcheck(['CMD', ...test], 0, 0, worker)).code).toBe(0);
      const neither = { PORT: nothing, WORKER_HEALTH_PORT: String(await freePort()) };
      expect((await runHealthcheck(['CMD', ...test], 0, 0, neither)).code).toBe(1);
    });

    it('ships only the committed sample data, not what a working copy gathers in data/', () => {
      const patterns = read('.dockerignore')
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line && !line.startsWith('#'));
      const committed = execFileSync('git', ['ls-files', 'data'], {
        cwd: REPO_ROOT,
        encoding: 'utf8',
      })
        .split('\n')
        .filter(Boolean);
      expect(committed.length).toBeGreaterThanOrEqual(3);
      for (const path of committed)
        expect([path, dockerContextTakes(patterns, path)]).toEqual([path, true]);
      for (const path of [
        'data/BTC_KRW/1D/2024.parquet',
        'data/ETH_BTC/5M/2019.parquet',
        'data/tasks/0b9c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3/result.json',
        'data/.uploads/x.part',
        'data/catalog.sqlite',
      ]) {
        expect([path, dockerContextTakes(patterns, path)]).toEqual([path, false]);
      }
      expect(dockerContextTakes(patterns, 'apps/api/src/main.ts')).toBe(true);
      expect(dockerContextTakes(patterns, 'node_modules/x/index.js')).toBe(false);
    });

    it('installs as production dependencies every package the compiled code loads at start', () => {
      const pkg = JSON.parse(read('package.json')) as { dependencies: Record<string, string> };
      const loaded = new Set<string>();
      const walk = (dir: string): void => {
        for (const entry of readdirSync(dir, { withFileTypes: true })) {
          const path = join(dir, entry.name);
          if (entry.isDirectory()) walk(path);
          else if (entry.name.endsWith('.js')) {
            // Top-level requires (tsc's output of static imports). A dynamic import inside a
            // function (an optional dev tool such as the DuckDB benchmark) may be missing.
            for (const [, name] of readFileSync(path, 'utf8').matchAll(
              /^\S.*\brequire\(["']([^"'./][^"']*)["']\)/gm,
            )) {
              const parts = name.split('/');
              loaded.add(name.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]);
            }
          }
        }
      };
      walk(join(REPO_ROOT, 'dist/apps'));
      walk(join(REPO_ROOT, 'dist/libs'));
      const external = [...loaded].filter(
        (name) => !name.startsWith('node:') && !builtinModules.includes(name),
      );
      expect(external.length).toBeGreaterThan(5);
      expect(external.filter((name) => !(name in pkg.dependencies))).toEqual([]);
    });

    it('.dockerignore keeps secrets, results and local builds out, and lets the sources in', () => {
      const ignored = read('.dockerignore')
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line && !line.startsWith('#'));
      expect(ignored).toEqual(
        expect.arrayContaining(['node_modules', 'dist', '.env', 'data/tasks', '.git']),
      );
      const copied = lines
        .filter((line) => line.startsWith('COPY ') && !line.includes('--from='))
        .flatMap((line) => line.replace(/--\S+/g, '').split(/\s+/).slice(1, -1));
      expect(copied).toEqual(expect.arrayContaining(['package.json', 'apps', 'libs', 'data']));
      for (const source of copied) expect(ignored).not.toContain(source);
    });
  });

  describe('docker-compose.yml', () => {
    const compose = parse(read('docker-compose.yml'), { merge: true }) as {
      services: Record<string, ComposeService>;
      volumes: Record<string, unknown>;
    };
    const { redis, backend, worker } = compose.services;

    it('states the Compose version it needs, as it uses Compose v2 syntax', () => {
      const text = read('docker-compose.yml');
      // `name:` and `env_file: [{path, required}]` (Compose 2.24) are what 1.29 rejects.
      expect(text).toMatch(/^name: /m);
      expect(text).toMatch(/^\s+required: /m);
      expect(text).toMatch(/^# Needs Docker Compose v2\.24\.0 or later/m);
      expect(read('docs/OPERATIONS.md')).toContain('Docker Compose v2.24.0 or later');
    });

    it('runs Redis 7 append-only with noeviction on a named volume, with a healthcheck', () => {
      expect(redis.image).toMatch(/^redis:7/);
      expect(redis.command!.join(' ')).toContain('--appendonly yes');
      expect(redis.command!.join(' ')).toContain('--maxmemory-policy noeviction');
      const [volume] = redis.volumes![0].split(':');
      expect(compose.volumes).toHaveProperty(volume);
      expect(redis.healthcheck!.test).toEqual(['CMD', 'redis-cli', 'ping']);
    });

    it('runs the API on port 8000 with ./data at /data, after Redis is healthy', () => {
      expect(backend.ports).toEqual(['${API_PORT:-8000}:8000']);
      expect(backend.environment).toMatchObject({ PORT: '8000', DATA_ROOT: '/data' });
      expect(backend.volumes).toContain('./data:/data');
      expect(backend.depends_on).toEqual({ redis: { condition: 'service_healthy' } });
      expect(backend.command).toBeUndefined(); // the image's CMD: the API
    });

    it('puts the worker under the worker profile, scalable: no container name, no host port', () => {
      expect(worker.profiles).toEqual(['worker']);
      expect(worker.container_name).toBeUndefined();
      expect(worker.ports).toBeUndefined();
      expect(worker.command).toEqual(['node', 'dist/apps/worker/src/main.js']);
      expect(join(REPO_ROOT, worker.command![1])).toBe(ENTRY.worker);
      expect(existsSync(ENTRY.worker)).toBe(true);
      expect(worker.depends_on).toEqual({ redis: { condition: 'service_healthy' } });
      expect(worker.volumes).toContain('./data:/data');
    });

    it('gives the apps a configuration that loads', () => {
      for (const service of [backend, worker]) {
        const config = loadConfig(service.environment);
        expect(config.port).toBe(8000);
        expect(config.workerHealthPort).toBe(8001);
        expect(config.resultsDir).toBe('/data/tasks');
      }
    });

    it('has healthchecks on the apps that pass against the running API and worker', async () => {
      const apiCheck = await runHealthcheck(backend.healthcheck!.test, 8000, apiPort);
      expect(apiCheck).toMatchObject({ code: 0 });
      const workerCheck = await runHealthcheck(worker.healthcheck!.test, 8001, workerPort);
      expect(workerCheck).toMatchObject({ code: 0 });
      expect((await runHealthcheck(worker.healthcheck!.test, 8001, await freePort())).code).toBe(1);
    });
  });

  describe('deploy/k8s', () => {
    const files = readdirSync(join(REPO_ROOT, 'deploy/k8s')).filter((name) =>
      name.endsWith('.yaml'),
    );
    const manifests = files
      .filter((name) => name !== 'kustomization.yaml')
      .flatMap((name) =>
        parseAllDocuments(read(`deploy/k8s/${name}`)).map((doc) => doc.toJS() as Manifest),
      );
    const find = (kind: string, name: string): Manifest => {
      const manifest = manifests.find((m) => m.kind === kind && m.metadata.name === name);
      if (!manifest) throw new Error(`no ${kind} ${name} in deploy/k8s`);
      return manifest;
    };
    const configMap = find('ConfigMap', 'coin-backtest-config');
    const api = find('Deployment', 'coin-backtest-api');
    const worker = find('Deployment', 'coin-backtest-worker');

    it('lists every manifest in the kustomization', () => {
      const kustomization = parse(read('deploy/k8s/kustomization.yaml')) as { resources: string[] };
      expect(kustomization.resources.sort()).toEqual(
        files.filter((name) => name !== 'kustomization.yaml').sort(),
      );
    });

    it('has a ConfigMap with every SPEC §9 variable, API_KEY and DATABASE_URL coming from a Secret', () => {
      const fromSecret = ['API_KEY', 'DATABASE_URL'];
      expect([...Object.keys(configMap.data!), ...fromSecret].sort()).toEqual(VARIABLE_NAMES);
      const config = loadConfig({
        ...configMap.data,
        API_KEY: 'from-the-secret',
        DATABASE_URL: 'postgres://coin:secret@postgres:5432/coin_backtest',
      });
      expect(config.resultsDir.startsWith(config.dataRoot)).toBe(true);
      expect(config.host).toBe('0.0.0.0');
      // Several pods share the results volume: the catalogue must not be a SQLite file on it.
      for (const deployment of [api, worker]) {
        const env = deployment.spec.template!.spec.containers[0].env!;
        for (const name of fromSecret) {
          const variable = env.find((e) => e.name === name);
          expect(variable?.valueFrom?.secretKeyRef).toMatchObject({
            name: 'coin-backtest-secrets',
            key: name,
          });
        }
      }
      const postgres = find('StatefulSet', 'postgres');
      expect(postgres.spec.template!.spec.containers[0].readinessProbe).toBeDefined();
    });

    it('probes /health/live and /health/ready on the ports the apps serve them on', async () => {
      const cases: Array<[Manifest, string, number]> = [
        [api, configMap.data!.PORT, apiPort],
        [worker, configMap.data!.WORKER_HEALTH_PORT, workerPort],
      ];
      for (const [deployment, configuredPort, runningPort] of cases) {
        const pod = deployment.spec.template!;
        const [container] = pod.spec.containers;
        const portOf = (port: number | string): number =>
          typeof port === 'number'
            ? port
            : container.ports.find((candidate) => candidate.name === port)!.containerPort;
        expect(container.envFrom).toEqual([{ configMapRef: { name: 'coin-backtest-config' } }]);
        expect(container.livenessProbe!.httpGet.path).toBe('/health/live');
        expect(container.readinessProbe!.httpGet.path).toBe('/health/ready');
        for (const probe of [
          container.startupProbe,
          container.livenessProbe,
          container.readinessProbe,
        ]) {
          expect(portOf(probe!.httpGet.port)).toBe(Number(configuredPort));
          const response = await fetch(`http://127.0.0.1:${runningPort}${probe!.httpGet.path}`);
          expect(response.status).toBe(200);
        }
        expect(pod.metadata.annotations).toMatchObject({
          'prometheus.io/port': configuredPort,
          'prometheus.io/path': '/metrics',
        });
        expect((await fetch(`http://127.0.0.1:${runningPort}/metrics`)).status).toBe(200);
        expect(existsSync(join(REPO_ROOT, container.command[1]))).toBe(true);
      }
      expect(api.spec.template!.spec.containers[0].command[1]).toBe('dist/apps/api/src/main.js');
      expect(worker.spec.template!.spec.containers[0].command[1]).toBe(
        'dist/apps/worker/src/main.js',
      );
      const service = find('Service', 'coin-backtest-api');
      expect(service.spec.ports![0].port).toBe(Number(configMap.data!.PORT));
    });

    it('sets requests and limits, runs as non-root, and shares one ReadWriteMany volume at DATA_ROOT', () => {
      const pvc = find('PersistentVolumeClaim', 'coin-backtest-data');
      expect(pvc.spec.accessModes).toEqual(['ReadWriteMany']);
      for (const deployment of [api, worker]) {
        const pod = deployment.spec.template!.spec;
        expect(pod.securityContext).toMatchObject({ runAsNonRoot: true });
        expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
        const [container] = pod.containers;
        expect(Object.keys(container.resources.requests).sort()).toEqual(['cpu', 'memory']);
        expect(Object.keys(container.resources.limits).sort()).toEqual(['cpu', 'memory']);
        const data = pod.volumes.find((volume) => volume.persistentVolumeClaim);
        expect(data!.persistentVolumeClaim!.claimName).toBe('coin-backtest-data');
        const mount = container.volumeMounts.find((m) => m.name === data!.name)!;
        expect(mount.mountPath).toBe(configMap.data!.DATA_ROOT);
      }
      // Running backtests get SHUTDOWN_GRACE_S after SIGTERM: the pod must wait longer.
      expect(worker.spec.template!.spec.terminationGracePeriodSeconds).toBeGreaterThan(
        Number(configMap.data!.SHUTDOWN_GRACE_S),
      );
    });
  });
});
