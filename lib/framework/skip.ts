// A skip that carries its reason to the reporter (mocha's this.skip() carries none). For the suite's own
// tests; specs use f.skipIf / f.skip.

type Ctx = { skip(): never; test?: unknown; currentTest?: unknown };
type WithReason = { skipReason?: string; type?: string; parent?: { tests?: WithReason[] } };

export function skipTest(ctx: Ctx, reason: string): never {
  const t = (ctx.currentTest ?? ctx.test) as WithReason | undefined;
  if (t) {
    t.skipReason = reason;
    if (t.type === 'hook') for (const x of t.parent?.tests ?? []) x.skipReason = reason;
  }
  return ctx.skip();
}
