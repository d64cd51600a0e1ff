// Reads the suite's JUnit XML (lib/framework/reporter.ts renderJUnit) back into cases. Pure.

export interface JUnitCase {
  name: string;
  outcome: 'passed' | 'failed' | 'skipped';
  message?: string;
  body?: string;
  /** the testcase's time attribute, when it has one */
  seconds?: number;
}

function unescapeXml(s: string): string {
  return s
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n)))
    .replace(/&#x([0-9a-fA-F]+);/g, (_, n: string) => String.fromCodePoint(parseInt(n, 16)))
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

export function parseJUnit(xml: string): JUnitCase[] {
  const out: JUnitCase[] = [];
  const re = /<testcase\b([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g;
  for (let m = re.exec(xml); m; m = re.exec(xml)) {
    const attrs = m[1] ?? '';
    const name = unescapeXml(/\bname="([^"]*)"/.exec(attrs)?.[1] ?? '');
    const inner = m[3] ?? '';
    const time = /\btime="([\d.]+)"/.exec(attrs)?.[1];
    const seconds = time === undefined ? {} : { seconds: Number(time) };
    const failure = /<(failure|error)\b[^>]*?message="([^"]*)"[^>]*?(?:\/>|>([\s\S]*?)<\/\1>)/.exec(inner);
    const skippedTag = /<skipped\b[^>]*>/.exec(inner)?.[0];
    const skipped = skippedTag !== undefined ? [skippedTag, /\bmessage="([^"]*)"/.exec(skippedTag)?.[1]] : undefined;
    if (failure) out.push({ name, outcome: 'failed', message: unescapeXml(failure[2] ?? ''), body: unescapeXml(failure[3] ?? ''), ...seconds });
    else if (skipped) out.push({ name, outcome: 'skipped', message: unescapeXml(skipped[1] ?? ''), ...seconds });
    else out.push({ name, outcome: 'passed', ...seconds });
  }
  return out;
}
