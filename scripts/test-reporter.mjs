// A node:test reporter that writes one JSON line per finished test (name, file, outcome,
// skip reason) so scripts/run-tests.mjs can print the skipped tests with their reasons and
// apply the CI rule (no skips under CI=true). The human-readable output stays with `spec`.
// Suites (describe) count too: a skipped describe is where the reason is given.

export default async function* testRecords(source) {
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const d = event.data;
    const outcome = d.skip !== undefined ? 'skip' : d.todo !== undefined ? 'todo' : event.type === 'test:pass' ? 'pass' : 'fail';
    const reason = outcome === 'skip' ? d.skip : outcome === 'todo' ? d.todo : undefined;
    yield JSON.stringify({
      name: d.name,
      file: d.file,
      nesting: d.nesting,
      suite: d.details?.type === 'suite',
      outcome,
      reason: typeof reason === 'string' ? reason : reason === true ? '(no reason given)' : undefined,
    }) + '\n';
  }
}
