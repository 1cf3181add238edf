import v8 from 'node:v8'; import vm from 'node:vm'; v8.setFlagsFromString('--expose-gc'); const gc = vm.runInNewContext('gc');
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
const show = (l) => { gc(); const m = process.memoryUsage(); console.log(l.padEnd(40), 'rss', Math.round(m.rss/1048576), 'heapUsed', (m.heapUsed/1048576).toFixed(1), 'ext', (m.external/1048576).toFixed(1)); };
show('start');
for (const a of process.argv.slice(2)) {
  const [dir, spec] = a.includes('=') ? a.split('=') : [null, a];
  let url = spec;
  if (dir) { try { url = pathToFileURL(createRequire(`/work/main/${dir}/x.js`).resolve(spec)).href; } catch (e) { console.log('skip', spec, e.code); continue; } }
  await import(url); show(spec);
}
