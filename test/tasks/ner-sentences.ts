/** A tiny repetitive NER corpus for the tag fine-tuning tests: "<Person> Smith flew to <Place> ." in CoNLL columns. */
export const PEOPLE = ['Alice', 'Bob', 'Carol', 'Dave', 'Erin'];
export const PLACES = ['Paris', 'Oslo', 'Lima', 'Rome'];

/** n sentences as a CoNLL file's text (word, tab, BIO tag; a blank line after each sentence). */
export function conll(n: number): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(`${PEOPLE[i % 5]}\tB-PER`, 'Smith\tI-PER', 'flew\tO', 'to\tO', `${PLACES[(i * 3) % 4]}\tB-LOC`, '.\tO', '');
  return out.join('\n');
}
