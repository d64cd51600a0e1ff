// Run-level findings that belong to no single test (e.g. "module check not performed on node X",
// "basic phase ran before connectivity"). Specs and lib code add them; the reporter prints them in the
// summary and writes them to JUnit, so nothing the run could not check is silent.

export type RunNoteLevel = 'info' | 'warning';

export interface RunNote {
  /** Short topic shown as the group heading, e.g. "sctp.ko module check". */
  topic: string;
  text: string;
  level: RunNoteLevel;
}

// On globalThis: mocha may load lib code a second time for the spec files (tsx's loaders), and the notes
// specs add must be the ones the reporter prints.
const registry = globalThis as { [k: symbol]: RunNote[] | undefined };
registry[Symbol.for('sctp-e2e.run-notes')] ??= [];
const notes: RunNote[] = registry[Symbol.for('sctp-e2e.run-notes')]!;

/** Adds a note once (same topic and text are de-duplicated). */
export function addRunNote(topic: string, text: string, level: RunNoteLevel = 'info'): void {
  if (notes.some((n) => n.topic === topic && n.text === text)) return;
  notes.push({ topic, text, level });
}

export function runNotes(): readonly RunNote[] {
  return notes;
}

/** For the suite's own tests. */
export function clearRunNotes(): void {
  notes.length = 0;
}
