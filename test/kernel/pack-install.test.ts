/**
 * The npm package installs and runs without a compiler: pack it with its
 * N-API prebuild (prebuildify), install the tarball into a fresh directory
 * with a PATH holding only node, npm and the network tools the demo calls
 * (no cc, gcc, g++ or make), then run `netring demo` from there. Dependencies
 * come from the npm cache or registry.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { needRoot } from '../helpers/netns.js';

// dist/test/kernel -> the repository
const repo = fileURLToPath(new URL('../../../', import.meta.url));

function which(cmd: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

test('npm pack ships a prebuild; the tarball installs without a compiler and `netring demo` runs', { skip: needRoot, timeout: 240_000 }, () => {
  const work = mkdtempSync(join(tmpdir(), 'netring-pack-'));
  try {
    // 1. a staging copy of what the package ships, so the build here never touches the loaded addon
    const stage = join(work, 'stage');
    mkdirSync(stage);
    for (const p of ['package.json', 'binding.gyp', 'native', 'dist/src', 'README.md', 'docs']) cpSync(join(repo, p), join(stage, p), { recursive: true });
    symlinkSync(join(repo, 'node_modules'), join(stage, 'node_modules'));
    execFileSync('npm', ['run', 'build:prebuilds'], { cwd: stage, stdio: ['ignore', 'ignore', 'pipe'] });
    const packed = JSON.parse(execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: stage, encoding: 'utf8' })) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const files = packed[0].files.map((f) => f.path);
    assert.ok(files.some((f) => /^prebuilds\/linux-x64\/[^/]+\.node$/.test(f)), `a linux-x64 prebuild is in the package: ${files.filter((f) => f.startsWith('prebuilds')).join(', ')}`);
    assert.ok(files.includes('binding.gyp') && files.includes('native/module.c'), 'the C sources ship for the compiler fallback');
    assert.ok(!files.some((f) => f.startsWith('build/')), 'no local build directory in the package');
    const tarball = join(work, packed[0].filename);

    // 2. a PATH with node, npm and the demo's tools only
    const bin = join(work, 'bin');
    mkdirSync(bin);
    symlinkSync(process.execPath, join(bin, 'node'));
    symlinkSync(realpathSync(which('npm')!), join(bin, 'npm'));
    for (const tool of ['sh', 'rm', 'ip', 'sysctl', 'ethtool', 'capinfos']) {
      const p = which(tool);
      if (p !== null) symlinkSync(p, join(bin, tool));
    }
    const env = { PATH: bin, HOME: process.env.HOME ?? '/root', npm_config_update_notifier: 'false' };
    for (const cc of ['cc', 'gcc', 'g++', 'c++', 'clang', 'make']) {
      assert.notEqual(spawnSync('sh', ['-c', `command -v ${cc}`], { env }).status, 0, `${cc} is hidden`);
    }

    // 3. install into a fresh directory
    const app = join(work, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'netring-pack-check', version: '1.0.0', private: true }));
    const install = spawnSync(join(bin, 'npm'), ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], { cwd: app, env, encoding: 'utf8' });
    assert.equal(install.status, 0, `npm install failed:\n${install.stdout}\n${install.stderr}`);
    const pkg = join(app, 'node_modules', 'netring');
    assert.ok(!existsSync(join(pkg, 'build')), 'nothing was compiled: the prebuild was used');
    assert.ok(readdirSync(join(pkg, 'prebuilds', 'linux-x64')).some((f) => f.endsWith('.node')));

    // 4. the demo runs from the installed package
    const demo = spawnSync(join(app, 'node_modules', '.bin', 'netring'), ['demo', '--packets', '2000'], { cwd: app, env, encoding: 'utf8', timeout: 120_000 });
    assert.equal(demo.status, 0, `netring demo failed:\n${demo.stdout}\n${demo.stderr}`);
    assert.match(demo.stdout, /netring demo report/);
    assert.match(demo.stdout, /accounted for\s+yes/);
    assert.match(demo.stderr, /removed namespace/);
    assert.equal(dirname(realpathSync(join(app, 'node_modules', '.bin', 'netring'))), join(realpathSync(pkg), 'dist', 'src', 'cli'));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
