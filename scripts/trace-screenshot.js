// trace-screenshot.js — load a qinval Chrome trace into scripts/trace-view.html in a real
// Chromium (driven by playwright-core) and save a PNG. Run by scripts/trace-screenshot.sh.
// Usage: node trace-screenshot.js TRACE.json OUT.png CHROMIUM [windows-json]
'use strict';
const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

(async () => {
  const [trace, out, exe, windowsArg] = process.argv.slice(2);
  const windows = JSON.parse(windowsArg || '[{"title":"whole run","range":[0,1e7]}]');
  const browser = await chromium.launch({ executablePath: exe, args: ['--no-sandbox'] });
  const page = await browser.newPage({ viewport: { width: 1420, height: 900 } });
  await page.goto('file://' + path.resolve(__dirname, 'trace-view.html'));
  await page.evaluate(([t, w]) => window.qvShow(JSON.parse(t), w), [fs.readFileSync(trace, 'utf8'), windows]);
  await page.screenshot({ path: out, fullPage: true });
  await browser.close();
})().catch(e => { console.error(e.message); process.exit(1); });
