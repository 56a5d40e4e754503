// Takes the README's screenshot of the operator page: a real seamark with
// containers, hand-made records and configured hosts, and a lookup asked.
// `npm run build && node dist/test/ui/screenshot.js` writes docs/operator-page.png.
import { fileURLToPath } from 'node:url';
import { startSeamark } from '../helpers/seamark.js';
import { api, waitUntil } from '../http/client.js';
import { docker, removeByPrefix, IMAGE } from '../docker/engine.js';
import { launchBrowser } from './browser.js';

const OUTPUT = fileURLToPath(new URL('../../../docs/operator-page.png', import.meta.url));
const prefix = 'shop-';

await removeByPrefix(prefix);
const seamark = await startSeamark({
  config: { hosts: [{ names: ['gateway', 'router'], addresses: ['192.168.1.1'] }, { names: ['nas'], addresses: ['192.168.1.20', 'fd00::20'] }] },
});
try {
  await docker('network', 'create', `${prefix}backend`);
  await docker('run', '-d', '--name', `${prefix}web-1`, '--network', `${prefix}backend`, '-p', '8080', '--label', 'seamark.name=web', IMAGE, 'sleep', '600');
  await docker('run', '-d', '--name', `${prefix}web-2`, '--network', `${prefix}backend`, '--label', 'seamark.name=web', IMAGE, 'sleep', '600');
  await docker('run', '-d', '--name', `${prefix}cache`, '--network', `${prefix}backend`, IMAGE, 'sleep', '600');
  await api(seamark.httpPort, 'PUT', '/v1/records/db1', { names: ['db1', 'postgres'], addresses: ['10.0.0.5'], ttl: 60, srv: [{ service: 'postgres', port: 5432 }] });
  await api(seamark.httpPort, 'PUT', '/v1/records/db', { names: ['db', '*.preview'], cname: 'db1' });
  await api(seamark.httpPort, 'PUT', '/v1/records/build-vm', { names: ['build-vm'], addresses: ['10.0.0.31'], lease: 3600 });
  await api(seamark.httpPort, 'PUT', '/v1/records/legacy-ftp', { names: ['ftp'], addresses: ['10.0.0.40'], check: { tcp: '127.0.0.1:1', interval: 1, timeout: 0.5 } });

  const browser = await launchBrowser();
  const page = await browser.newPage();
  await page.setViewportSize({ width: 1280, height: 860 });
  await page.goto(`http://127.0.0.1:${seamark.httpPort}/`);
  await waitUntil(async () => (await page.$$eval('#names-body tr:not(.spacer)', (rows) => rows.length)) >= 12, 15000, 'the names');
  await waitUntil(async () => (await page.textContent('#names-body')) ?.includes('unhealthy') === true, 15000, 'the failing check');
  await page.fill('#lookup-name', 'web');
  await page.click('#lookup-form button[type=submit]');
  await page.waitForSelector('#lookup-output:has-text("ANSWER SECTION")');
  await page.waitForTimeout(2500);
  await page.screenshot({ path: OUTPUT, fullPage: true });
  console.log(`wrote ${OUTPUT}`);
  await browser.close();
} finally {
  await seamark.stop();
  await removeByPrefix(prefix);
}
