// What a page's workers spend on a file's columns, in Node: the shards' `readBlock` (a
// block's columns) over every block of FILE, as the page cuts it (1 MiB slices through
// `Input`), and the engine's `Table.push` of each block with those columns. Builds of the
// package take turns, RUNS rounds; medians of wall and CPU time (the process's user +
// system, one thread doing the work), and MB per CPU-second.
//
//   node bench/www/read-block.mjs FILE name=pkgdir ...   (e.g. before=/tmp/old/www/pkg after=pkg)

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import os from 'node:os';

const [file, ...specs] = process.argv.slice(2);
const RUNS = Number(process.env.RUNS || 5);
const SLICE = 1 << 20;

const bytes = readFileSync(file);
const builds = [];
for (const spec of specs) {
  const [name, dir] = spec.split('=');
  const pkg = await import(pathToFileURL(path.resolve(dir, 'trailsift.js')));
  pkg.initSync({ module: readFileSync(path.resolve(dir, 'trailsift_bg.wasm')) });
  // The blocks and their first lines, as the page's engine hands them to the shards.
  const input = new pkg.Input(path.basename(file));
  const blocks = [];
  const add = (lines) => lines.length && blocks.push([lines, input.firstLine]);
  for (let at = 0; at < bytes.length; at += SLICE) add(input.push(bytes.subarray(at, at + SLICE)));
  add(input.finish());
  builds.push({ name, pkg, blocks, wall: [], cpu: [], out: 0, pushWall: [], pushCpu: [] });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`${file}: ${(bytes.length / 1e6).toFixed(1)} MB, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' / ')}`);
for (let r = 0; r < RUNS; r++) {
  for (const b of builds) {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const columns = b.blocks.map(([block, first]) => b.pkg.readBlock(block, first));
    b.wall.push(performance.now() - t0);
    const cpu = process.cpuUsage(cpu0);
    b.cpu.push((cpu.user + cpu.system) / 1e3);
    b.out = columns.reduce((n, c) => n + c.length, 0);
    const table = new b.pkg.Table();
    const cpu1 = process.cpuUsage();
    const t1 = performance.now();
    b.blocks.forEach(([block, first], i) => table.push(block, first, columns[i]));
    b.pushWall.push(performance.now() - t1);
    const pushCpu = process.cpuUsage(cpu1);
    b.pushCpu.push((pushCpu.user + pushCpu.system) / 1e3);
    table.free();
  }
}
for (const b of builds) {
  const cpu = median(b.cpu);
  console.log(`${b.name}: readBlock of ${b.blocks.length} blocks: wall ${median(b.wall).toFixed(0)} ms, CPU ${cpu.toFixed(0)} ms `
    + `(${(bytes.length / 1e3 / cpu).toFixed(0)} MB per CPU-second; each round's CPU: ${b.cpu.map((c) => c.toFixed(0)).join(', ')}), `
    + `${(b.out / 1e6).toFixed(1)} MB of columns; Table.push: wall ${median(b.pushWall).toFixed(0)} ms, CPU ${median(b.pushCpu).toFixed(0)} ms `
    + `(each round's CPU: ${b.pushCpu.map((c) => c.toFixed(0)).join(', ')})`);
}
console.log(`load average ${os.loadavg().map((l) => l.toFixed(1)).join(' / ')}`);
