// Reads the suite's JUnit XML (lib/framework/reporter.ts renderJUnit) back into cases. Pure.

export interface JUnitCase {
  name: string;
  outcome: 'passed' | 'failed' | 'skipped';
  message?: string;
  body?: string;
}

function unescape(s: string): string {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
}

export function parseJUnit(xml: string): JUnitCase[] {
  const out: JUnitCase[] = [];
  const re = /<testcase\b([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g;
  for (let m = re.exec(xml); m; m = re.exec(xml)) {
    const attrs = m[1] ?? '';
    const name = unescape(/\bname="([^"]*)"/.exec(attrs)?.[1] ?? '');
    const inner = m[3] ?? '';
    const failure = /<(failure|error)\b[^>]*?message="([^"]*)"[^>]*?(?:\/>|>([\s\S]*?)<\/\1>)/.exec(inner);
    const skippedTag = /<skipped\b[^>]*>/.exec(inner)?.[0];
    const skipped = skippedTag !== undefined ? [skippedTag, /\bmessage="([^"]*)"/.exec(skippedTag)?.[1]] : undefined;
    if (failure) out.push({ name, outcome: 'failed', message: unescape(failure[2] ?? ''), body: unescape(failure[3] ?? '') });
    else if (skipped) out.push({ name, outcome: 'skipped', message: unescape(skipped[1] ?? '') });
    else out.push({ name, outcome: 'passed' });
  }
  return out;
}
