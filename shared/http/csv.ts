/**
 * One CSV cell: quoted always; a leading formula character (or a tab or carriage return, which
 * spreadsheets skip before one) is neutralised so spreadsheets do not evaluate it.
 */
export function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return `"${safe.replace(/"/g, '""')}"`;
}

/** A CSV download: a header line, then one line per row, CRLF-terminated (RFC 4180). */
export function csvResponse<T>(
  columns: readonly [string, (row: T) => string][],
  rows: readonly T[],
  filename: string,
): { status: number; body: string; headers: Record<string, string> } {
  const lines = [
    columns.map(([name]) => name).join(','),
    ...rows.map((row) => columns.map(([, get]) => csvCell(get(row))).join(',')),
  ];
  return {
    status: 200,
    body: `${lines.join('\r\n')}\r\n`,
    headers: { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${filename}"` },
  };
}

/** Whether the client asked for CSV (`Accept: text/csv`). */
export const wantsCsv = (accept: string | null): boolean => (accept ?? '').toLowerCase().includes('text/csv');
