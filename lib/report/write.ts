// Writes the report card (report.json + report.html) into a directory. checkReportDir runs before any test,
// so an unwritable DIR ends the run at once with one sentence (usage exit code), not after an hour of tests.

import { accessSync, constants, mkdirSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../framework/errors.ts';
import { renderReportHtml } from './html.ts';
import { type ReportModel, renderReportJson } from './model.ts';

export const REPORT_FILES = { json: 'report.json', html: 'report.html' } as const;

function code(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
}

/** Creates DIR if needed and proves it writable; a UserError (usage) naming DIR and the reason otherwise. */
export function checkReportDir(dir: string): void {
  const bad = (why: string) => new UserError(`--report ${dir} is not a writable directory: ${why}`);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw bad(code(e));
  }
  if (!statSync(dir).isDirectory()) throw bad('not a directory');
  const probe = join(dir, `.sctp-e2e-write-test-${process.pid}`);
  try {
    accessSync(dir, constants.W_OK);
    writeFileSync(probe, '');
    unlinkSync(probe);
  } catch (e) {
    throw bad(code(e));
  }
}

/** Writes DIR/report.json and DIR/report.html (each via a temp file and rename); returns their paths. */
export function writeReport(dir: string, m: ReportModel): { json: string; html: string } {
  mkdirSync(dir, { recursive: true });
  const put = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(`${p}.tmp`, text);
    renameSync(`${p}.tmp`, p);
    return p;
  };
  return { json: put(REPORT_FILES.json, renderReportJson(m)), html: put(REPORT_FILES.html, renderReportHtml(m)) };
}
