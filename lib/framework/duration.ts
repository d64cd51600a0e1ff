// The one duration formatter: every message, log line and report that states a duration uses it.
// Pure (no imports), so cluster/, vm/ and the node transports can use it too.

/** "250ms", "1s", "1.5s", "59.9s", "2m5s". */
export function formatDuration(ms: number): string {
  if (ms < 999.5) return `${Math.round(ms)}ms`;
  const sec = Math.round(ms / 100) / 10;
  if (sec < 120) return `${sec}s`;
  const whole = Math.round(ms / 1000);
  return `${Math.floor(whole / 60)}m${whole % 60}s`;
}

/** Seconds with one decimal, as a number (for JSON fields such as bootSeconds). */
export function roundSeconds(ms: number): number {
  return Math.round(ms / 100) / 10;
}

/** A command-line flag value in Go's time.Duration syntax (agnhost's --timeout, --hold): "5s", "1500ms". */
export function goDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${Math.round(ms)}ms`;
}
