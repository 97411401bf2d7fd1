import { randomUUID } from 'node:crypto';
import { DueEntry, jobIds } from '../../shared/domain/jobs';
import { dueEntries, removeDueEntry, writeDueEntries } from '../../shared/store/dueIndex';

/** The due-date index on a real Azurite: a day's entries are spread over partitions by id. */
const job = jobIds.processEndDates;
// Far from every other test's dates, whose entries share the table.
const now = '2091-03-10T12:00:00.0000000Z';

/** A subject id whose partition digit is `digit`. */
const idWithDigit = (digit: string): string => `${digit}${randomUUID().slice(1)}-${randomUUID()}`;

function entry(dueAt: string, digit: string): DueEntry {
  return { job, dueAt, subjectId: idWithDigit(digit) };
}

describe('due-date index', () => {
  it('finds everything due by now across a day’s partitions, and nothing that is not due yet', async () => {
    const digits = [...'0123456789abcdef'];
    const due = [
      ...digits.map((digit) => entry('2091-03-08T09:00:00.0000000Z', digit)), // an earlier day
      ...digits.map((digit) => entry('2091-03-10T11:59:59.9990000Z', digit)), // earlier today
      entry(now, 'f'), // due exactly now
    ];
    const notYet = [
      ...digits.map((digit) => entry('2091-03-10T12:00:00.0010000Z', digit)), // later today
      entry('2091-03-11T00:00:00.0000000Z', '0'), // tomorrow
    ];
    await writeDueEntries([...due, ...notYet]);

    const mine = new Set([...due, ...notYet].map((item) => item.subjectId));
    const found = (await dueEntries(job, now, 10_000)).filter((row) => mine.has(row.entry.subjectId));
    expect(found.map((row) => row.entry.subjectId).sort()).toEqual(due.map((item) => item.subjectId).sort());
    // One day's entries really are spread: 16 partitions for today's due ones.
    const today = found.filter((row) => row.entry.dueAt.startsWith('2091-03-10'));
    expect(new Set(today.map((row) => row.partitionKey)).size).toBe(16);
    // Earlier days come first.
    const days = found.map((row) => row.entry.dueAt.slice(0, 10));
    expect(days).toEqual([...days].sort());

    for (const row of found) await removeDueEntry(row);
    const after = (await dueEntries(job, now, 10_000)).filter((row) => mine.has(row.entry.subjectId));
    expect(after).toEqual([]);
  });
});
