import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
const has = () => process.moduleLoadList.some((m) => m.includes('internal/deps/undici'));
for (const a of process.argv.slice(2)) {
  const [dir, spec] = a.includes('=') ? a.split('=') : [null, a];
  let url = spec;
  if (dir) { try { url = pathToFileURL(createRequire(`/work/main/${dir}/x.js`).resolve(spec)).href; } catch (e) { console.log('skip', spec, e.code); continue; } }
  await import(url); console.log(spec, has(), Math.round(process.memoryUsage().rss / 1048576));
}
